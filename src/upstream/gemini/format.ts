import { errorBody } from "../../errors.ts";
import { ERROR_CODE, type ErrorCode } from "../../protocol.ts";
import { sseEvent } from "../../sse/encode.ts";
import type { SseEvent } from "../../sse/types.ts";
import type { BlockedBy, EventInfo, InBandError, TextPart, WireFormat } from "../format.ts";
import { arr, isObject, type JsonObject, num, obj, str, tryParse } from "../json.ts";
import { rewriteTexts } from "../replace-data.ts";
import { wholeJsonEvent } from "../whole-event.ts";
import { geminiAnswerTexts, geminiBlockedAnswer } from "./answer.ts";
import { describeError, readBlockReason, readError, readStrayError, readUsage } from "./wire.ts";

const NOTHING: EventInfo = { parts: [] };

/**
 * Visits every text slot of a chunk in a fixed order (candidates, then parts); `set` replaces it in
 * place. Channels: `c<i>/text`, `c<i>/thought`, and `c<i>/call<j>` for a function call, whose
 * arguments arrive whole (Gemini does not stream them) and are shown as `JSON.stringify(args)` so a
 * guardrail can read them; `j` is the part's position in the event, since a call never continues.
 */
function visitText(
  chunk: JsonObject,
  visit: (channel: string, text: string, set: (t: string) => void) => void,
): void {
  const candidates = arr(chunk, "candidates");
  for (let i = 0; i < candidates.length; i++) {
    const candidate = candidates[i];
    if (!isObject(candidate)) continue;
    const c = num(candidate, "index") ?? i;
    const content = obj(candidate, "content");
    const parts = content === undefined ? [] : arr(content, "parts");
    for (let j = 0; j < parts.length; j++) {
      const part = parts[j];
      if (!isObject(part)) continue;
      const call = obj(part, "functionCall");
      if (call !== undefined) {
        visit(`c${c}/call${j}`, JSON.stringify(obj(call, "args") ?? {}), (t) => {
          // A stage that rewrote the arguments into something that is no longer a JSON object has
          // redacted them; the call keeps its name with empty arguments rather than carrying a
          // value the client's SDK cannot decode.
          const args = tryParse(t);
          call.args = isObject(args) ? args : {};
        });
        continue;
      }
      const text = str(part, "text");
      if (text) visit(`c${c}/${part.thought === true ? "thought" : "text"}`, text, (t) => (part.text = t));
      // Code execution: the model's code and its output are text the client sees too.
      for (const [field, key, channel] of [
        ["executableCode", "code", "code"],
        ["codeExecutionResult", "output", "result"],
      ] as const) {
        const holder = obj(part, field);
        const value = holder === undefined ? undefined : str(holder, key);
        if (holder !== undefined && value) visit(`c${c}/${channel}${j}`, value, (t) => (holder[key] = t));
      }
    }
  }
}

function inspect(ev: SseEvent): EventInfo {
  if (!ev.hasData) {
    const stray = readStrayError(ev.strayLines);
    return stray === undefined
      ? NOTHING
      : { parts: [], signal: "stray-error", errorMessage: describeError(stray) };
  }
  const chunk = tryParse(ev.data);
  if (!isObject(chunk)) return NOTHING;
  // The Google SDKs raise on a data chunk with a top-level `error`, so the client sees this one.
  const error = readError(chunk);
  if (error !== undefined) return { parts: [], signal: "error", errorMessage: describeError(error) };

  const parts: TextPart[] = [];
  visitText(chunk, (channel, text) => parts.push({ channel, text }));
  // Gemini has no end sentinel: a finish reason (or a blocked prompt) is the only proof of a
  // normal end. Vertex repeats `finishReason` on every chunk, so `complete` may come more than once.
  let finishReason = readBlockReason(chunk);
  for (const candidate of arr(chunk, "candidates")) {
    if (isObject(candidate)) finishReason = str(candidate, "finishReason") ?? finishReason;
  }
  const usage = readUsage(chunk);
  return {
    parts,
    ...(finishReason === undefined ? {} : { signal: "complete", finishReason }),
    ...(usage === undefined ? {} : { usage: { inputTokens: usage.input, outputTokens: usage.output } }),
  };
}

function rewrite(ev: SseEvent, texts: readonly string[]): SseEvent {
  return rewriteTexts(ev, texts, visitText);
}

/**
 * The HTTP status a Google API would put in `error.code` for each gateway code. The Google GenAI SDK
 * raises an `ApiError` for an in-band error only when `code` is a number in 400..599.
 */
export function geminiErrorStatus(code: ErrorCode): number {
  switch (code) {
    case ERROR_CODE.unauthorized:
      return 401;
    case ERROR_CODE.forbidden:
      return 403;
    case ERROR_CODE.notFound:
    case ERROR_CODE.streamNotFound:
    case ERROR_CODE.modelNotFound:
      return 404;
    case ERROR_CODE.payloadTooLarge:
      return 413;
    case ERROR_CODE.rateLimited:
    case ERROR_CODE.streamLimitExceeded:
      return 429;
    case ERROR_CODE.streamCancelled:
      return 499;
    case ERROR_CODE.internal:
      return 500;
    case ERROR_CODE.upstreamError:
    case ERROR_CODE.upstreamEventTooLarge:
      return 502;
    case ERROR_CODE.upstreamInterrupted:
    case ERROR_CODE.upstreamUnreachable:
    case ERROR_CODE.streamLost:
      return 503;
    case ERROR_CODE.upstreamTimeout:
    case ERROR_CODE.upstreamStalled:
      return 504;
    case ERROR_CODE.invalidJson:
    case ERROR_CODE.unsupportedMediaType:
    case ERROR_CODE.invalidRequest:
    case ERROR_CODE.unknownProvider:
    case ERROR_CODE.providerNotConfigured:
    case ERROR_CODE.unsupportedParameter:
    case ERROR_CODE.methodNotAllowed:
    case ERROR_CODE.upgradeRequired:
    case ERROR_CODE.invalidCursor:
    case ERROR_CODE.guardrailBlocked:
      return 400;
  }
}

/** A data-only event in Gemini's framing: CRLF, as the API itself writes its streams. */
function dataEvent(value: unknown): SseEvent {
  return sseEvent({ data: JSON.stringify(value) }, "\r\n");
}

function errorEvents(err: InBandError): SseEvent[] {
  return [dataEvent(errorBody("gemini", geminiErrorStatus(err.code), err.code, err.message))];
}

/**
 * Gemini's own content-filter ending: a candidate with `finishReason: "SAFETY"` and no parts. The
 * rule is named in `finishMessage`, the field Gemini uses to explain a finish. No sentinel follows,
 * because Gemini has none.
 */
function blockedEvents(name: string, by: BlockedBy = "rule"): SseEvent[] {
  const chunk = {
    candidates: [
      {
        content: { parts: [], role: "model" },
        finishReason: "SAFETY",
        finishMessage: `Response blocked by the gateway guardrail ${by} "${name}".`,
        index: 0,
      },
    ],
  };
  return [dataEvent(chunk)];
}

/** Gemini `streamGenerateContent?alt=sse` streams: `data:`-only, CRLF, no end sentinel. */
export const geminiFormat: WireFormat = {
  name: "gemini",
  errorShape: "gemini",
  inspect,
  isWhole: wholeJsonEvent(),
  rewrite,
  errorEvents,
  blockedEvents,
  answerTexts: geminiAnswerTexts,
  blockedAnswer: geminiBlockedAnswer,
};
