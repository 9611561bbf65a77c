import { arr, isObject, type JsonObject, num, obj, str, tryParse } from "../json.ts";
import type { ChatFinishReason, ChatUsage } from "../openai-chat/types.ts";

/**
 * Reading of Gemini `GenerateContentResponse` JSON (one stream chunk or a whole response), shared by
 * the wire format, the stream translator and the response translator. Everything here tolerates
 * absent or mistyped fields: a provider change shows up as "nothing there", never as a crash.
 */

/** What one part of a candidate's content holds, as far as the gateway cares. */
export type GeminiPart =
  | { readonly kind: "text"; readonly text: string; readonly thought: boolean }
  | { readonly kind: "call"; readonly name: string; readonly args: JsonObject };

/** One candidate of a chunk. `index` falls back to the array position (Gemini omits it for n=1). */
export interface GeminiCandidate {
  readonly index: number;
  readonly parts: readonly GeminiPart[];
  readonly finishReason: string | undefined;
}

/** An error object as Google APIs write it (`{"error":{"code","message","status"}}`). */
export interface GeminiError {
  readonly code: number | undefined;
  readonly message: string;
  readonly status: string | undefined;
}

/** Reads the candidates of a chunk in array order. */
export function readCandidates(chunk: JsonObject): GeminiCandidate[] {
  const out: GeminiCandidate[] = [];
  const candidates = arr(chunk, "candidates");
  for (let i = 0; i < candidates.length; i++) {
    const c = candidates[i];
    if (!isObject(c)) continue;
    const parts: GeminiPart[] = [];
    const content = obj(c, "content");
    for (const p of content === undefined ? [] : arr(content, "parts")) {
      const part = readPart(p);
      if (part !== undefined) parts.push(part);
    }
    out.push({ index: num(c, "index") ?? i, parts, finishReason: str(c, "finishReason") });
  }
  return out;
}

/** Reads one part; parts with nothing the gateway forwards (inline data, bare signatures) are skipped. */
export function readPart(p: unknown): GeminiPart | undefined {
  if (!isObject(p)) return undefined;
  const call = obj(p, "functionCall");
  if (call !== undefined) {
    return { kind: "call", name: str(call, "name") ?? "", args: obj(call, "args") ?? {} };
  }
  const text = str(p, "text");
  if (text === undefined) return undefined;
  return { kind: "text", text, thought: p.thought === true };
}

/** `promptFeedback.blockReason`: the prompt itself was refused, and no candidate follows. */
export function readBlockReason(chunk: JsonObject): string | undefined {
  const feedback = obj(chunk, "promptFeedback");
  return feedback === undefined ? undefined : str(feedback, "blockReason");
}

/** A top-level `error` object, if the value is (or contains) one. */
export function readError(value: unknown): GeminiError | undefined {
  if (!isObject(value)) return undefined;
  const error = obj(value, "error");
  if (error === undefined) return undefined;
  return {
    code: num(error, "code"),
    message: str(error, "message") ?? "upstream error",
    status: str(error, "status"),
  };
}

/**
 * Google writes a failure into an open stream as a bare, pretty-printed JSON object without SSE
 * framing; an SSE parser sees only unknown field lines. Joined back, they parse as that object.
 */
export function readStrayError(strayLines: readonly string[]): GeminiError | undefined {
  if (strayLines.length === 0) return undefined;
  return readError(tryParse(strayLines.join("\n")));
}

/** One line describing an upstream error for logs and in-band errors; the message only, never the body. */
export function describeError(e: GeminiError): string {
  const label = e.status ?? (e.code === undefined ? undefined : String(e.code));
  return label === undefined ? e.message : `${label}: ${e.message}`;
}

/**
 * Token counts of `usageMetadata`. Thinking tokens are billed as output, so OpenAI's
 * `completion_tokens` is candidates + thoughts; tool-use prompt tokens are billed as input. Gemini
 * repeats running totals on every chunk, so the last chunk's values are the final ones.
 */
export function readUsage(
  chunk: JsonObject,
): { input: number | undefined; output: number | undefined } | undefined {
  const meta = obj(chunk, "usageMetadata");
  if (meta === undefined) return undefined;
  const prompt = num(meta, "promptTokenCount");
  const toolPrompt = num(meta, "toolUsePromptTokenCount");
  const candidates = num(meta, "candidatesTokenCount");
  const thoughts = num(meta, "thoughtsTokenCount");
  const input =
    prompt === undefined && toolPrompt === undefined ? undefined : (prompt ?? 0) + (toolPrompt ?? 0);
  const output =
    candidates === undefined && thoughts === undefined ? undefined : (candidates ?? 0) + (thoughts ?? 0);
  return { input, output };
}

/** `usageMetadata` as OpenAI usage; undefined when the chunk carries none. */
export function toChatUsage(chunk: JsonObject): ChatUsage | undefined {
  const usage = readUsage(chunk);
  if (usage === undefined) return undefined;
  const prompt = usage.input ?? 0;
  const completion = usage.output ?? 0;
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

/** Finish reasons that mean Google's safety or policy filters cut the answer. */
const FILTERED = new Set([
  "SAFETY",
  "RECITATION",
  "BLOCKLIST",
  "PROHIBITED_CONTENT",
  "SPII",
  "IMAGE_SAFETY",
  "IMAGE_PROHIBITED_CONTENT",
]);

/**
 * Maps a Gemini finish reason to OpenAI's. `STOP` after function calls is OpenAI's `tool_calls`.
 * Reasons with no OpenAI counterpart (`OTHER`, `LANGUAGE`, `MALFORMED_FUNCTION_CALL`...) become
 * `stop`: the answer ended, and OpenAI clients know no other value.
 */
export function mapFinishReason(reason: string, hadCalls: boolean): ChatFinishReason {
  if (reason === "MAX_TOKENS") return "length";
  if (FILTERED.has(reason)) return "content_filter";
  return hadCalls ? "tool_calls" : "stop";
}

/**
 * Prefix of the tool-call ids of one response, derived from its unique id so that ids from earlier
 * turns never collide (the request translator finds a tool result's function by its call id).
 */
export function toolCallIdBase(responseId: string): string {
  const prefix = "chatcmpl-";
  return `call_${responseId.startsWith(prefix) ? responseId.slice(prefix.length) : responseId}`;
}
