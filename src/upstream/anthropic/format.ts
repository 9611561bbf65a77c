import { ERROR_CODE, type ErrorCode } from "../../protocol.ts";
import { formatEvent, sseEvent } from "../../sse/encode.ts";
import type { SseEvent } from "../../sse/types.ts";
import type { BlockedBy, EventInfo, InBandError, TextPart, WireFormat } from "../format.ts";
import { wholeJsonEvent } from "../whole-event.ts";
import { anthropicAnswerTexts, anthropicBlockedAnswer } from "./answer.ts";
import { isRecord, objectField, parseJson, stringField } from "./json.ts";
import {
  ANTHROPIC_EVENT,
  type AnthropicUsage,
  deltaTextField,
  mergeUsage,
  promptTokens,
  readBlockDelta,
  readErrorMessage,
} from "./wire.ts";

/** Shared result for the many events that carry nothing (ping, block start/stop): no allocation per event. */
const NOTHING: EventInfo = { parts: [] };
const COMPLETE: EventInfo = { parts: [], signal: "complete", endOfStream: true };

/** Channel key of one content block's text: a guardrail window never spans two blocks. */
function channel(index: number, kind: string): string {
  return `b${index}/${kind}`;
}

/**
 * One complete SSE event with a JSON payload, in Anthropic's own LF framing. JSON.stringify never
 * emits a raw line break, so the payload is always one `data:` line.
 */
function frame(event: string, payload: unknown): SseEvent {
  return sseEvent({ event, data: JSON.stringify(payload) });
}

/**
 * The line style of a rewritten block: the upstream's own, except bare CR (valid SSE, used by no
 * provider), which `formatEvent` does not write and which becomes LF.
 */
function writableNewline(newline: SseEvent["newline"]): "\n" | "\r\n" {
  return newline === "\r\n" ? "\r\n" : "\n";
}

/**
 * Anthropic `error.type` for a gateway code. The Anthropic SDK raises an `APIError` for any
 * `event: error`, typed by this field, so it should say what kind of failure the client hit.
 */
function anthropicErrorType(code: ErrorCode): string {
  switch (code) {
    case ERROR_CODE.unauthorized:
      return "authentication_error";
    case ERROR_CODE.forbidden:
      return "permission_error";
    case ERROR_CODE.notFound:
    case ERROR_CODE.streamNotFound:
    case ERROR_CODE.modelNotFound:
      return "not_found_error";
    case ERROR_CODE.rateLimited:
    case ERROR_CODE.streamLimitExceeded:
      return "rate_limit_error";
    case ERROR_CODE.payloadTooLarge:
      return "request_too_large";
    case ERROR_CODE.upstreamTimeout:
      return "timeout_error";
    case ERROR_CODE.upstreamError:
    case ERROR_CODE.upstreamUnreachable:
    case ERROR_CODE.upstreamInterrupted:
    case ERROR_CODE.upstreamStalled:
    case ERROR_CODE.upstreamEventTooLarge:
    case ERROR_CODE.streamLost:
    case ERROR_CODE.internal:
      return "api_error";
    case ERROR_CODE.invalidJson:
    case ERROR_CODE.unsupportedMediaType:
    case ERROR_CODE.invalidRequest:
    case ERROR_CODE.unknownProvider:
    case ERROR_CODE.providerNotConfigured:
    case ERROR_CODE.unsupportedParameter:
    case ERROR_CODE.methodNotAllowed:
    case ERROR_CODE.upgradeRequired:
    case ERROR_CODE.invalidCursor:
    case ERROR_CODE.streamCancelled:
    case ERROR_CODE.guardrailBlocked:
      return "invalid_request_error";
  }
}

function usageInfo(u: AnthropicUsage): EventInfo["usage"] {
  const inputTokens = promptTokens(u);
  if (inputTokens === undefined && u.output === undefined) return undefined;
  return {
    ...(inputTokens === undefined ? {} : { inputTokens }),
    ...(u.output === undefined ? {} : { outputTokens: u.output }),
  };
}

function inspectMessageStart(data: string): EventInfo {
  const payload = parseJson(data);
  const message = isRecord(payload) ? objectField(payload, "message") : undefined;
  const usage = usageInfo(mergeUsage({}, message === undefined ? undefined : objectField(message, "usage")));
  return usage === undefined ? NOTHING : { parts: [], usage };
}

function inspectMessageDelta(data: string): EventInfo {
  const payload = parseJson(data);
  if (!isRecord(payload)) return NOTHING;
  const delta = objectField(payload, "delta");
  const finishReason = delta === undefined ? undefined : stringField(delta, "stop_reason");
  const usage = usageInfo(mergeUsage({}, objectField(payload, "usage")));
  return {
    parts: [],
    ...(finishReason === undefined ? {} : { finishReason }),
    ...(usage === undefined ? {} : { usage }),
  };
}

function inspectBlockDelta(data: string): EventInfo {
  const payload = parseJson(data);
  const d = isRecord(payload) ? readBlockDelta(payload) : undefined;
  if (d === undefined) return NOTHING;
  const part: TextPart = { channel: channel(d.index, d.kind), text: d.text };
  return { parts: [part] };
}

/**
 * Reads one Anthropic event, dispatching on the `event:` name so that only the four event types that
 * can carry text, usage, a finish reason or an error are JSON-parsed. Events without an `event:` line
 * are ignored, exactly as the Anthropic SDK ignores them.
 */
function inspect(ev: SseEvent): EventInfo {
  switch (ev.event) {
    case ANTHROPIC_EVENT.contentBlockDelta:
      return inspectBlockDelta(ev.data);
    case ANTHROPIC_EVENT.messageStop:
      return COMPLETE;
    case ANTHROPIC_EVENT.messageStart:
      return inspectMessageStart(ev.data);
    case ANTHROPIC_EVENT.messageDelta:
      return inspectMessageDelta(ev.data);
    case ANTHROPIC_EVENT.error:
      // Anthropic ends the stream after an error event.
      return { parts: [], signal: "error", endOfStream: true, errorMessage: readErrorMessage(ev.data) };
    default:
      return NOTHING;
  }
}

/**
 * Replaces the one text field of a `content_block_delta` and re-encodes the block, keeping its event
 * name, id and line endings. The upstream's whitespace padding inside the JSON is not preserved
 * (the JSON is re-serialized), which is invisible to any JSON consumer.
 */
function rewrite(ev: SseEvent, texts: readonly string[]): SseEvent {
  const payload = ev.event === ANTHROPIC_EVENT.contentBlockDelta ? parseJson(ev.data) : undefined;
  const delta = isRecord(payload) ? objectField(payload, "delta") : undefined;
  const where = delta === undefined ? undefined : deltaTextField(delta);
  if (
    !isRecord(payload) ||
    delta === undefined ||
    where === undefined ||
    typeof where.holder(delta)?.[where.field] !== "string"
  ) {
    if (texts.length === 0) return ev;
    throw new RangeError(`anthropic rewrite: event "${ev.event ?? "message"}" carries no text part`);
  }
  const [text] = texts;
  if (texts.length !== 1 || text === undefined) {
    throw new RangeError(`anthropic rewrite: expected 1 text, got ${texts.length}`);
  }
  const next = { ...payload, delta: where.set(delta, text) };
  const event = ANTHROPIC_EVENT.contentBlockDelta;
  const data = JSON.stringify(next);
  const newline = writableNewline(ev.newline);
  return {
    raw: formatEvent({ event, data, ...(ev.id === undefined ? {} : { id: ev.id }) }, newline),
    event,
    data,
    hasData: true,
    id: ev.id,
    strayLines: [],
    newline,
    terminated: true,
  };
}

/** An in-band error exactly as Anthropic sends one mid-stream; the Anthropic SDK raises `APIError` on it. */
function errorEvents(err: InBandError): SseEvent[] {
  return [
    frame(ANTHROPIC_EVENT.error, {
      type: "error",
      error: { type: anthropicErrorType(err.code), message: err.message },
    }),
  ];
}

/**
 * Ends a stream the guardrail stopped, in Anthropic's own terms. `stop_reason: "refusal"` is what
 * Anthropic itself sends when its safety filter stops a response, so accumulating clients see a
 * familiar end state; the `error` event that follows makes SDKs raise (a refusal alone is easy to
 * miss) and names the rule; `message_stop` closes the message for parsers that read past the error.
 * `usage.output_tokens` is required by the SDK's accumulator but unknown here, hence 0.
 */
function blockedEvents(name: string, by: BlockedBy = "rule"): SseEvent[] {
  const message = `response blocked by guardrail ${by} "${name}"`;
  return [
    frame(ANTHROPIC_EVENT.messageDelta, {
      type: "message_delta",
      delta: {
        stop_reason: "refusal",
        stop_sequence: null,
        stop_details: { type: "refusal", category: null, explanation: message },
      },
      usage: { output_tokens: 0 },
    }),
    frame(ANTHROPIC_EVENT.error, {
      type: "error",
      error: { type: anthropicErrorType(ERROR_CODE.guardrailBlocked), message },
    }),
    frame(ANTHROPIC_EVENT.messageStop, { type: "message_stop" }),
  ];
}

/** Native passthrough of the Anthropic Messages stream (`/v1/messages` with `stream: true`). */
export const anthropicFormat: WireFormat = {
  name: "anthropic",
  errorShape: "anthropic",
  inspect,
  isWhole: wholeJsonEvent(),
  rewrite,
  errorEvents,
  blockedEvents,
  answerTexts: anthropicAnswerTexts,
  blockedAnswer: anthropicBlockedAnswer,
};
