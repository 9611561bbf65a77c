import type { ErrorCode, ErrorShape } from "../protocol.ts";
import type { SseEvent } from "../sse/types.ts";

/** The streaming wire formats the gateway understands. */
export type FormatName = "openai-chat" | "openai-responses" | "anthropic" | "gemini" | "workers-ai";

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
  /** Upstream's error message, for logs/analytics and for re-framing a `stray-error` (never contains our keys). */
  readonly errorMessage?: string;
  /** Provider finish reason as the provider spelled it. */
  readonly finishReason?: string;
  /** Exact token counts when the event carries usage. */
  readonly usage?: { readonly inputTokens?: number; readonly outputTokens?: number };
}

/** An in-band error the gateway must put into a stream that already started. */
export interface InBandError {
  readonly code: ErrorCode;
  readonly message: string;
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
   * Returns a copy of `ev` with its text parts replaced by `texts` (same order and length as
   * `inspect(ev).parts`), re-encoded in this format. Only called for events whose text changed.
   */
  rewrite(ev: SseEvent, texts: readonly string[]): SseEvent;
  /** SSE frames (complete, blank-line terminated) that end a stream with an error the client's SDK raises. */
  errorFrames(err: InBandError): string;
  /** SSE frames that end a stream stopped by the guardrail, in this format's own terms (content filter). */
  blockedFrames(rule: string): string;
}
