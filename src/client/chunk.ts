import { DONE_SENTINEL } from "./protocol.ts";
import type { ChatDelta, ChatUsage } from "./types.ts";

/** What one SSE data payload means to the client. */
export type ParsedData =
  | { readonly kind: "done" }
  | {
      readonly kind: "error";
      readonly message: string;
      readonly code: string | null;
      readonly type: string | null;
    }
  | {
      readonly kind: "chunk";
      readonly deltas: readonly ChatDelta[];
      readonly finishReason: string | null;
      readonly usage: ChatUsage | null;
    }
  | { readonly kind: "invalid" };

type JsonRecord = Readonly<Record<string, unknown>>;

function isRecord(value: unknown): value is JsonRecord {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function stringOrNull(value: unknown): string | null {
  if (typeof value === "string") return value;
  // Some providers send numeric codes; the caller compares strings.
  if (typeof value === "number") return String(value);
  return null;
}

/**
 * Parses one data payload of an OpenAI chat stream: `[DONE]`, an in-band `{ error }`, or a
 * `chat.completion.chunk`. Only choice 0 is read: with `n > 1` the choices interleave and one answer
 * is what a chat UI shows.
 */
export function parseData(data: string): ParsedData {
  if (data === DONE_SENTINEL) return { kind: "done" };
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return { kind: "invalid" };
  }
  return parseChunk(value);
}

/** Reads one already-parsed event payload (what the gateway's WebSocket carries as `data`). */
export function parseChunk(value: unknown): ParsedData {
  if (!isRecord(value)) return { kind: "invalid" };
  if (isRecord(value.error)) {
    const error = value.error;
    return {
      kind: "error",
      message: typeof error.message === "string" && error.message !== "" ? error.message : "stream error",
      code: stringOrNull(error.code),
      type: stringOrNull(error.type),
    };
  }
  // `usage: null` rides on every chunk when include_usage is set; only the final object counts.
  const usage = isUsage(value.usage) ? value.usage : null;
  const deltas: ChatDelta[] = [];
  let finishReason: string | null = null;
  const choices = Array.isArray(value.choices) ? value.choices : [];
  for (const choice of choices) {
    if (!isRecord(choice) || (choice.index !== undefined && choice.index !== 0)) continue;
    if (typeof choice.finish_reason === "string") finishReason = choice.finish_reason;
    if (isRecord(choice.delta)) readDelta(choice.delta, deltas);
  }
  return { kind: "chunk", deltas, finishReason, usage };
}

const USAGE_COUNTS = ["prompt_tokens", "completion_tokens", "total_tokens"] as const;

function isUsage(value: unknown): value is ChatUsage {
  return (
    isRecord(value) && USAGE_COUNTS.every((key) => value[key] === undefined || typeof value[key] === "number")
  );
}

function readDelta(delta: JsonRecord, out: ChatDelta[]): void {
  // Reasoning precedes the answer it leads to; `reasoning_content` is the de-facto field of
  // OpenAI-compatible servers (and the gateway's translators), `reasoning` is OpenRouter's.
  const reasoning = delta.reasoning_content ?? delta.reasoning;
  if (typeof reasoning === "string" && reasoning !== "") out.push({ type: "reasoning", text: reasoning });
  // Empty strings (the role-only first chunk) are not deltas: they would fire "first token" early.
  if (typeof delta.content === "string" && delta.content !== "")
    out.push({ type: "text", text: delta.content });
  if (typeof delta.refusal === "string" && delta.refusal !== "")
    out.push({ type: "refusal", text: delta.refusal });
  if (!Array.isArray(delta.tool_calls)) return;
  for (const call of delta.tool_calls) {
    if (!isRecord(call) || typeof call.index !== "number") continue;
    const fn = isRecord(call.function) ? call.function : {};
    const id = typeof call.id === "string" && call.id !== "" ? call.id : undefined;
    const name = typeof fn.name === "string" && fn.name !== "" ? fn.name : undefined;
    const args = typeof fn.arguments === "string" ? fn.arguments : "";
    if (id === undefined && name === undefined && args === "") continue;
    out.push({
      type: "tool_call",
      index: call.index,
      ...(id === undefined ? {} : { id }),
      ...(name === undefined ? {} : { name }),
      arguments: args,
    });
  }
}
