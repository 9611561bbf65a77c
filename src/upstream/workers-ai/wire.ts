import { arr, isObject, type JsonObject, num, obj, str } from "../json.ts";
import type { ChatFinishReason, ChatUsage } from "../openai-chat/types.ts";

/**
 * Reading of Workers AI text-generation output. Most models stream the native shape
 * `{"response":"…","tool_calls":[…]}`; newer ones (gpt-oss, for example) stream OpenAI-shaped
 * chunks (`choices[].delta`) through the same binding, so both are read.
 */

/** The `[DONE]` sentinel that ends every Workers AI stream. */
export const DONE = "[DONE]";

/** Delta fields of an OpenAI-shaped chunk that carry text, with the channel kind each feeds. */
const DELTA_TEXT_FIELDS = [
  ["content", "content"],
  ["reasoning_content", "reasoning"],
  ["reasoning", "reasoning"],
] as const;

/** Where a piece of text lives in a chunk, and how to replace it in place. */
export type TextVisitor = (channel: string, text: string, set: (t: string) => void) => void;

/** Visits the `function.arguments` (or bare `arguments`) strings of a `tool_calls` array. */
function visitToolArgs(calls: readonly unknown[], choice: number, visit: TextVisitor): void {
  calls.forEach((call, k) => {
    if (!isObject(call)) return;
    const index = num(call, "index") ?? k;
    const fn = obj(call, "function");
    const holder = fn ?? call;
    const args = str(holder, "arguments");
    if (args) visit(`c${choice}/tool${index}/args`, args, (t) => (holder.arguments = t));
  });
}

/**
 * Visits every text slot of a chunk in a fixed order: native `response` and `tool_calls`, then
 * OpenAI-shaped choices. Native text is choice 0's content, the same channel an OpenAI-shaped chunk
 * would use.
 */
export function visitText(chunk: JsonObject, visit: TextVisitor): void {
  const response = str(chunk, "response");
  if (response) visit("c0/content", response, (t) => (chunk.response = t));
  visitToolArgs(arr(chunk, "tool_calls"), 0, visit);
  for (const choice of arr(chunk, "choices")) {
    if (!isObject(choice)) continue;
    const delta = obj(choice, "delta");
    if (delta === undefined) continue;
    const c = num(choice, "index") ?? 0;
    for (const [field, kind] of DELTA_TEXT_FIELDS) {
      const text = str(delta, field);
      if (text) visit(`c${c}/${kind}`, text, (t) => (delta[field] = t));
    }
    visitToolArgs(arr(delta, "tool_calls"), c, visit);
  }
}

/** The finish reason of a chunk: top level (native) or the first choice's (OpenAI-shaped). */
export function readFinishReason(chunk: JsonObject): string | undefined {
  const direct = str(chunk, "finish_reason");
  if (direct !== undefined) return direct;
  for (const choice of arr(chunk, "choices")) {
    if (isObject(choice)) {
      const reason = str(choice, "finish_reason");
      if (reason !== undefined) return reason;
    }
  }
  return undefined;
}

/** Workers AI reports usage in OpenAI's own shape, in a last chunk before `[DONE]`. */
export function readUsage(chunk: JsonObject): ChatUsage | undefined {
  const usage = obj(chunk, "usage");
  if (usage === undefined) return undefined;
  const prompt = num(usage, "prompt_tokens") ?? 0;
  const completion = num(usage, "completion_tokens") ?? 0;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: num(usage, "total_tokens") ?? prompt + completion,
  };
}

/** The message of a top-level `error` (object with `message`, or a bare string). */
export function readErrorMessage(chunk: JsonObject): string | undefined {
  const error = chunk.error;
  if (error === undefined || error === null) return undefined;
  if (typeof error === "string") return error;
  return (isObject(error) ? str(error, "message") : undefined) ?? "upstream error";
}

/**
 * Maps a Workers AI finish reason to OpenAI's (the values are OpenAI's, plus `model_length`).
 * Without one (the native stream never sends it), a stream that made tool calls ended in `tool_calls`.
 */
export function mapFinishReason(reason: string | undefined, hadCalls: boolean): ChatFinishReason {
  switch (reason) {
    case "length":
    case "model_length":
      return "length";
    case "content_filter":
      return "content_filter";
    case "tool_calls":
      return "tool_calls";
    default:
      return hadCalls ? "tool_calls" : "stop";
  }
}

/** Prefix of generated tool-call ids, derived from the response id so ids never repeat across turns. */
export function toolCallIdBase(responseId: string): string {
  const prefix = "chatcmpl-";
  return `call_${responseId.startsWith(prefix) ? responseId.slice(prefix.length) : responseId}`;
}
