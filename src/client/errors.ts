import type { InterruptReason } from "./protocol.ts";

/** How much of an answer arrived before a stream failed; partial text is offered, never as complete. */
export interface ReceivedSoFar {
  readonly streamId: string | null;
  readonly lastEventId: number;
  readonly receivedCharacters: number;
  readonly receivedEvents: number;
  readonly partialText: string;
}

const REASON_TEXT: Record<InterruptReason, string> = {
  retries_exhausted: "resuming failed after every retry",
  not_found: "the gateway no longer knows this stream (404)",
  bad_cursor: "the gateway rejected the resume cursor (400)",
  no_stream_id: "the response had no stream id to resume",
  gap: "the resumed stream skipped events",
};

/** The connection broke and the stream could not be resumed: the answer is incomplete. */
export class StreamInterruptedError extends Error {
  override readonly name = "StreamInterruptedError";
  readonly reason: InterruptReason;
  readonly streamId: string | null;
  readonly lastEventId: number;
  readonly receivedCharacters: number;
  readonly receivedEvents: number;
  /** What arrived before the break; show it only marked as incomplete. */
  readonly partialText: string;

  constructor(reason: InterruptReason, received: ReceivedSoFar, cause?: unknown) {
    super(
      `Stream interrupted: received ${received.receivedCharacters} characters in ${received.receivedEvents} events, ` +
        `the answer is incomplete (${REASON_TEXT[reason]}).`,
      cause === undefined ? undefined : { cause },
    );
    this.reason = reason;
    this.streamId = received.streamId;
    this.lastEventId = received.lastEventId;
    this.receivedCharacters = received.receivedCharacters;
    this.receivedEvents = received.receivedEvents;
    this.partialText = received.partialText;
  }
}

/** The gateway ended the stream with an error (in-band event, or an HTTP error before streaming). */
export class GatewayStreamError extends Error {
  override readonly name = "GatewayStreamError";
  /** The gateway's error code, e.g. `upstream_interrupted`, `guardrail_blocked`; null if it sent none. */
  readonly code: string | null;
  readonly type: string | null;
  /** The HTTP status when the request itself failed; null for an in-band error. */
  readonly status: number | null;
  readonly partialText: string;

  constructor(
    error: { readonly message: string; readonly code: string | null; readonly type: string | null },
    status: number | null,
    partialText: string,
  ) {
    super(error.message);
    this.code = error.code;
    this.type = error.type;
    this.status = status;
    this.partialText = partialText;
  }
}

/** The caller aborted the stream; `name` is "AbortError" so the usual abort checks recognise it. */
export class StreamAbortedError extends Error {
  override readonly name = "AbortError";

  constructor(received: ReceivedSoFar) {
    super(
      `Stream aborted: received ${received.receivedCharacters} characters in ${received.receivedEvents} events.`,
    );
  }
}
