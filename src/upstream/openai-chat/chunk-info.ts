import type { EventInfo, TextPart } from "../format.ts";
import { arr, isObject, type JsonObject, num, obj, str } from "../json.ts";

/** Text-bearing delta fields of a Chat Completions choice, in the order they are addressed. */
const DELTA_TEXT_FIELDS = ["content", "refusal", "reasoning", "reasoning_content"] as const;

/** Delta fields of answer content that is not text: a tool call (even one not yet given arguments), audio. */
const NON_TEXT = ["tool_calls", "function_call", "audio"] as const;

/** What an event carries when it is not a chunk (or carries nothing the gateway reads). */
export const NOTHING: EventInfo = { parts: [] };
/** `[DONE]`: the normal end, and the end of the stream. */
export const COMPLETE: EventInfo = { parts: [], signal: "complete", endOfStream: true };

/** Visits every text slot of a chunk in a fixed order; `set` replaces it in place. */
export function visitText(
  chunk: JsonObject,
  visit: (channel: string, text: string, set: (t: string) => void) => void,
): void {
  for (const choice of arr(chunk, "choices")) {
    if (!isObject(choice)) continue;
    const delta = obj(choice, "delta");
    if (delta === undefined) continue;
    const c = num(choice, "index") ?? 0;
    for (const field of DELTA_TEXT_FIELDS) {
      const text = str(delta, field);
      if (text) visit(`c${c}/${field}`, text, (t) => (delta[field] = t));
    }
    for (const call of arr(delta, "tool_calls")) {
      if (!isObject(call)) continue;
      const fn = obj(call, "function");
      const args = fn === undefined ? undefined : str(fn, "arguments");
      if (fn !== undefined && args) {
        visit(`c${c}/tool${num(call, "index") ?? 0}/args`, args, (t) => (fn.arguments = t));
      }
    }
  }
}

/**
 * What `inspect` reads out of an event whose data is `chunk`, from the parsed value itself: a
 * translation that builds chunk objects hands this on with the event it writes, so the chunk it has
 * just serialized is never parsed again. `errorEvent` is true for an `event: error` block.
 */
export function inspectChunk(chunk: unknown, errorEvent = false): EventInfo {
  if (!isObject(chunk)) return NOTHING;
  // OpenAI-compatible servers report failures on a 200 either as `event: error` (Groq) or as a chunk
  // with a top-level `error` (OpenRouter); the OpenAI SDK raises on both, so the client sees them.
  const error = chunk.error;
  if (errorEvent || error !== undefined) {
    const message = isObject(error) ? str(error, "message") : typeof error === "string" ? error : undefined;
    return { parts: [], signal: "error", errorMessage: message ?? "upstream error" };
  }
  const parts: TextPart[] = [];
  visitText(chunk, (channel, text) => parts.push({ channel, text }));
  let finishReason: string | undefined;
  let choiceSpan = 0;
  let finishes: number[] | undefined;
  let nonText = false;
  for (const choice of arr(chunk, "choices")) {
    if (!isObject(choice)) continue;
    const delta = obj(choice, "delta");
    if (delta !== undefined && NON_TEXT.some((k) => delta[k] !== undefined && delta[k] !== null))
      nonText = true;
    const index = num(choice, "index") ?? 0;
    if (index >= choiceSpan) choiceSpan = index + 1;
    const reason = str(choice, "finish_reason");
    if (reason === undefined) continue;
    finishReason = reason;
    finishes ??= [];
    finishes.push(index);
  }
  const usage = obj(chunk, "usage");
  return {
    parts,
    ...(finishReason === undefined ? {} : { finishReason }),
    ...(choiceSpan === 0 ? {} : { choiceSpan }),
    ...(finishes === undefined ? {} : { finishes }),
    ...(nonText ? { nonText: true as const } : {}),
    ...(usage === undefined
      ? {}
      : {
          usage: { inputTokens: num(usage, "prompt_tokens"), outputTokens: num(usage, "completion_tokens") },
        }),
  };
}
