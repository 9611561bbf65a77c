import type { ChatFinishReason, ChatUsage } from "../openai-chat/types.ts";
import { isRecord, type JsonObject, numberField, objectField, parseJson, stringField } from "./json.ts";

/**
 * Anthropic Messages wire constants. They are provider-specific, so they live with the adapter
 * rather than in `src/protocol.ts` (which names the gateway's own wire).
 */
export const ANTHROPIC = {
  path: "/v1/messages",
  versionHeader: "anthropic-version",
  /** The stable API version every current Anthropic SDK sends. */
  version: "2023-06-01",
} as const;

/** SSE event names of the Messages stream (the `event:` line; each equals the payload's `type`). */
export const ANTHROPIC_EVENT = {
  messageStart: "message_start",
  contentBlockStart: "content_block_start",
  contentBlockDelta: "content_block_delta",
  contentBlockStop: "content_block_stop",
  messageDelta: "message_delta",
  messageStop: "message_stop",
  ping: "ping",
  error: "error",
} as const;

/** Kinds of streamed text inside a `content_block_delta`. */
export type DeltaKind = "text" | "thinking" | "input" | "citation";

/** The text a `content_block_delta` carries, with the JSON field that holds it. */
export interface BlockDelta {
  readonly index: number;
  readonly kind: DeltaKind;
  readonly text: string;
}

/** Where a delta type keeps its text: the object holding it (the delta itself, or nested) and the field. */
export interface DeltaTextField {
  readonly kind: DeltaKind;
  readonly field: string;
  /** The object that holds `field` (a citation nests its quoted text one level down). */
  readonly holder: (delta: JsonObject) => JsonObject | undefined;
  /** A copy of `delta` with the text replaced. */
  readonly set: (delta: JsonObject, text: string) => JsonObject;
}

function direct(kind: DeltaKind, field: string): DeltaTextField {
  return { kind, field, holder: (d) => d, set: (d, text) => ({ ...d, [field]: text }) };
}

/** The field that carries text, per delta type; `signature_delta` carries none. */
const DELTA_TEXT_FIELD: Readonly<Record<string, DeltaTextField>> = {
  text_delta: direct("text", "text"),
  thinking_delta: direct("thinking", "thinking"),
  input_json_delta: direct("input", "partial_json"),
  // A citation quotes the source it cites: text the client sees, so the guardrail must see it too.
  citations_delta: {
    kind: "citation",
    field: "cited_text",
    holder: (d) => objectField(d, "citation"),
    set: (d, text) => ({ ...d, citation: { ...objectField(d, "citation"), cited_text: text } }),
  },
};

/** Where a delta's text sits inside the event JSON, for rewriting it in place. */
export function deltaTextField(delta: JsonObject): DeltaTextField | undefined {
  const type = stringField(delta, "type");
  return type === undefined ? undefined : DELTA_TEXT_FIELD[type];
}

/** Reads the text of a parsed `content_block_delta` payload; undefined when it carries none. */
export function readBlockDelta(payload: JsonObject): BlockDelta | undefined {
  const index = numberField(payload, "index");
  const delta = objectField(payload, "delta");
  if (index === undefined || delta === undefined) return undefined;
  const where = deltaTextField(delta);
  const holder = where?.holder(delta);
  if (where === undefined || holder === undefined) return undefined;
  const text = stringField(holder, where.field);
  return text === undefined ? undefined : { index, kind: where.kind, text };
}

/** Token counts as Anthropic reports them; each field is absent until some event carried it. */
export interface AnthropicUsage {
  readonly input?: number;
  readonly cacheCreation?: number;
  readonly cacheRead?: number;
  readonly output?: number;
}

/**
 * Reads a `usage` object and overlays it on `prev`. Counts in `message_delta` are cumulative totals
 * (the SDK's own accumulator overwrites, never adds), so a later value replaces an earlier one; this
 * matters with server tools, where the final `input_tokens` exceeds the one in `message_start`.
 */
export function mergeUsage(prev: AnthropicUsage, usage: JsonObject | undefined): AnthropicUsage {
  if (usage === undefined) return prev;
  const input = numberField(usage, "input_tokens") ?? prev.input;
  const cacheCreation = numberField(usage, "cache_creation_input_tokens") ?? prev.cacheCreation;
  const cacheRead = numberField(usage, "cache_read_input_tokens") ?? prev.cacheRead;
  const output = numberField(usage, "output_tokens") ?? prev.output;
  return {
    ...(input === undefined ? {} : { input }),
    ...(cacheCreation === undefined ? {} : { cacheCreation }),
    ...(cacheRead === undefined ? {} : { cacheRead }),
    ...(output === undefined ? {} : { output }),
  };
}

/**
 * Total prompt tokens. Anthropic's `input_tokens` excludes cached tokens ("total input tokens is the
 * summation of input_tokens, cache_creation_input_tokens and cache_read_input_tokens"), whereas
 * OpenAI's `prompt_tokens` includes them, so the three are added.
 */
export function promptTokens(u: AnthropicUsage): number | undefined {
  if (u.input === undefined && u.cacheCreation === undefined && u.cacheRead === undefined) return undefined;
  return (u.input ?? 0) + (u.cacheCreation ?? 0) + (u.cacheRead ?? 0);
}

/** OpenAI usage from Anthropic counts; undefined until the upstream reported any. */
export function toChatUsage(u: AnthropicUsage): ChatUsage | undefined {
  const prompt = promptTokens(u);
  if (prompt === undefined && u.output === undefined) return undefined;
  const p = prompt ?? 0;
  const c = u.output ?? 0;
  return { prompt_tokens: p, completion_tokens: c, total_tokens: p + c };
}

/**
 * Anthropic `stop_reason` to OpenAI `finish_reason`. `pause_turn` (a server tool loop paused; the
 * client may resume by sending the turn back) has no OpenAI counterpart and ends the turn like
 * `stop`; `model_context_window_exceeded` is a length cut. An unknown future reason maps to `stop`
 * rather than failing a stream that otherwise completed.
 */
export function mapStopReason(reason: string): ChatFinishReason {
  switch (reason) {
    case "max_tokens":
    case "model_context_window_exceeded":
      return "length";
    case "tool_use":
      return "tool_calls";
    case "refusal":
      return "content_filter";
    default:
      return "stop";
  }
}

/** Longest upstream error message forwarded; longer ones are cut (they are for humans, not parsing). */
const MAX_ERROR_MESSAGE = 500;

/** The human message of an `error` event payload, bounded; a generic text when it has none. */
export function readErrorMessage(data: string): string {
  const payload = parseJson(data);
  const error = isRecord(payload) ? objectField(payload, "error") : undefined;
  const message = error === undefined ? undefined : stringField(error, "message");
  if (message === undefined || message === "") return "Anthropic reported an error in the stream";
  return message.length > MAX_ERROR_MESSAGE ? `${message.slice(0, MAX_ERROR_MESSAGE)}…` : message;
}
