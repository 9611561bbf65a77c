import type { ErrorCode, ErrorShape } from "../protocol.ts";
import type { SseEvent } from "../sse/types.ts";
import { isObject, type JsonObject } from "./json.ts";

/** The streaming wire formats the gateway understands. */
export type FormatName = "openai-chat" | "openai-responses" | "anthropic" | "gemini" | "workers-ai";

/** What stopped a stream: a guardrail rule or a guardrail classifier (named where the format has room). */
export type BlockedBy = "rule" | "classifier";

/** A piece of streamed text inside one event, addressed so that a stage can rewrite it. */
export interface TextPart {
  /**
   * Stable key of the logical text channel this piece continues (e.g. `c0/content`, `c0/tool1/args`,
   * `block2/thinking`). Text on one channel is contiguous across events; a guardrail window is per channel.
   */
  readonly channel: string;
  /** The decoded text this event adds to the channel. */
  readonly text: string;
  /**
   * True when this part is the channel's whole and last text (e.g. a Responses `output_text.done`
   * copy): nothing will follow on it, so a windowed scan need not hold its tail back.
   */
  readonly final?: boolean;
}

/** What an adapter reads out of one event. Absent fields mean "nothing of that kind". */
export interface EventInfo {
  /** Text this event carries, in order (content, reasoning, tool-call arguments...). */
  readonly parts: readonly TextPart[];
  /**
   * `complete`: the upstream signalled a normal end (`[DONE]`, `message_stop`, a finish reason...).
   * `error`: the upstream sent an error in a form the client's SDK will itself raise.
   * `stray-error`: the upstream wrote an error the client cannot see (not SSE-framed); the gateway
   *   must send its own in-band error carrying `errorMessage`.
   */
  readonly signal?: "complete" | "error" | "stray-error";
  /**
   * The upstream's end sentinel (`[DONE]`, `message_stop`, a terminal Responses event): nothing that
   * follows it belongs to the answer, so the client's response closes right after it. Gemini has none:
   * a finish reason may repeat on every chunk (Vertex) and usage on every chunk is cumulative.
   */
  readonly endOfStream?: true;
  /** Upstream's error message, for logs/analytics and for re-framing a `stray-error` (never contains our keys). */
  readonly errorMessage?: string;
  /** Provider finish reason as the provider spelled it. */
  readonly finishReason?: string;
  /**
   * For formats whose answers run in parallel (OpenAI's `n` choices): one past the highest choice
   * index this event carries, and the indices it gives a finish reason. An answer every choice of
   * which finished is whole even if the upstream then closes without its end marker.
   */
  readonly choiceSpan?: number;
  readonly finishes?: readonly number[];
  /**
   * The event carries answer content that is not text on a channel (a tool call being opened, audio),
   * even when it has no text yet: an answer with such content is never continued mid-stream.
   */
  readonly nonText?: true;
  /** Exact token counts when the event carries usage. */
  readonly usage?: { readonly inputTokens?: number; readonly outputTokens?: number };
}

/**
 * One text slot of a whole (non-streaming) JSON answer: the channel it belongs to (the same key a
 * stream of that answer would use, so verdicts read alike), its text, and how to replace it in the
 * parsed answer it was read from. Several slots may share a channel: their texts are one text, in order
 * (e.g. Gemini's text parts), exactly as a stream's events continue a channel.
 */
export interface AnswerText {
  readonly channel: string;
  readonly text: string;
  /** Writes `text` in place of this slot (and drops anything that would still disclose the old text). */
  readonly set: (text: string) => void;
}

const NO_KEYS: ReadonlySet<string> = new Set();

/**
 * Adds a slot for every non-empty string in `value`, at any depth (object values and array items; keys
 * are names, not text), each its own channel named by its path under `channel`. `set` replaces `value`
 * itself when it is a string. Keys in `skip` are never text (ids, signatures, base64 payloads). For JSON
 * that is answer text as a whole: tool-call input objects, JSON-mode output, unknown answer shapes.
 */
export function stringSlots(
  value: unknown,
  channel: string,
  set: (text: string) => void,
  out: AnswerText[],
  skip: ReadonlySet<string> = NO_KEYS,
): void {
  if (typeof value === "string") {
    if (value !== "") out.push({ channel, text: value, set });
    return;
  }
  const at = (key: string | number) =>
    typeof key === "number" ? `${channel}[${key}]` : channel === "" ? key : `${channel}.${key}`;
  if (Array.isArray(value)) {
    value.forEach((v, i) => {
      stringSlots(v, at(i), (t) => (value[i] = t), out, skip);
    });
    return;
  }
  if (!isObject(value)) return;
  for (const [key, v] of Object.entries(value)) {
    if (!skip.has(key)) stringSlots(v, at(key), (t) => (value[key] = t), out, skip);
  }
}

/**
 * The fields of `answer` named in `keys` that it has, as a new object: the identity and usage a blocked
 * answer keeps. Only fields that are never answer text belong in `keys`.
 */
export function pickFields(answer: JsonObject, keys: readonly string[]): JsonObject {
  const out: JsonObject = {};
  for (const key of keys) if (answer[key] !== undefined) out[key] = answer[key];
  return out;
}

/** An in-band error the gateway must put into a stream that already started. */
export interface InBandError {
  readonly code: ErrorCode;
  readonly message: string;
}

/** How a continuing attempt's text must join the text already delivered. */
export interface SeamSpec {
  /** `replay`: the attempt re-sends the answer from its start, which must reproduce `delivered` exactly. */
  readonly mode: "prefill" | "replay";
  /** The text already delivered on the answer's one channel. */
  readonly delivered: string;
  /** Prefill: delivered whitespace the prefill left out; dropped from the continuation's start if it repeats it. */
  readonly seamWhitespace: string;
  /** The data of the first event the client got with data: the format reads the answer's identity from it. */
  readonly firstData: string | undefined;
  /** Output tokens the earlier attempts reported, added to the continuing attempt's usage. */
  readonly priorOutputTokens: number;
}

/** One continued event as the client gets it, or why the continuation failed. */
export type SeamResult =
  | { readonly ok: true; readonly events: readonly { readonly ev: SseEvent; readonly info: EventInfo }[] }
  | { readonly ok: false; readonly error: InBandError };

/** Joins a continuing attempt's events to the answer the client already has (see SeamSpec). */
export interface Seam {
  push(ev: SseEvent): SeamResult;
}

/**
 * Everything the shared stream pipeline needs to know about one wire format. Shared code calls these
 * and never branches on a provider's or format's name.
 */
export interface WireFormat {
  readonly name: FormatName;
  /** Error body shape for HTTP errors on routes that speak this format. */
  readonly errorShape: ErrorShape;
  /** Reads one event. Must be cheap: it runs once per event on the hot path. */
  inspect(ev: SseEvent): EventInfo;
  /**
   * True when an event that the upstream ended without its blank line is still whole (its data
   * parses): only such an event is forwarded, never a fragment the SSE rules would not dispatch.
   */
  isWhole(ev: SseEvent): boolean;
  /**
   * Returns a copy of `ev` with its text parts replaced by `texts` (same order and length as
   * `inspect(ev).parts`), re-encoded in this format. Only called for events whose text changed.
   */
  rewrite(ev: SseEvent, texts: readonly string[]): SseEvent;
  /**
   * The events (complete, blank-line terminated) that end a stream with an error the client's SDK
   * raises. Built from their fields (`sseEvent`), so the pipeline carries them without decoding them.
   */
  errorEvents(err: InBandError): SseEvent[];
  /**
   * The end marker a client of this format waits for, for an upstream that closed cleanly after every
   * choice finished but never sent it (some OpenAI-compatible servers): the gateway appends it and the
   * stream is complete. Absent: a format whose streams are complete only by their own signals.
   */
  readonly endMarker?: () => SseEvent[];
  /**
   * Mid-stream continuation in this format (one answer continued from another attempt): the channel
   * that carries the answer's text (only an answer with text on it alone can be continued) and the
   * seam that joins the next attempt's events to it. Absent: streams of this format are never
   * continued (the explicit error stays).
   */
  readonly continuation?: { readonly channel: string; seam(spec: SeamSpec): Seam };
  /**
   * The events that end a stream stopped by the guardrail, in this format's own terms (content filter),
   * naming the rule (or, `by: "classifier"`, the classifier) that stopped it.
   */
  blockedEvents(name: string, by?: BlockedBy): SseEvent[];
  /**
   * Every text slot of a non-streaming JSON answer in this format (what a client shows or runs: content,
   * reasoning, tool-call arguments...), in document order, each setter writing into `answer`; undefined
   * when `answer` is not this format's answer shape (the caller then scans it generically).
   */
  answerTexts(answer: JsonObject): AnswerText[] | undefined;
  /**
   * A new answer saying, in this format's own terms, that a content filter stopped it (HTTP 200, as the
   * providers do): `answer`'s identity and usage kept, no text at all, the rule named where the format
   * has room for it.
   */
  blockedAnswer(answer: JsonObject, name: string, by?: BlockedBy): JsonObject;
}
