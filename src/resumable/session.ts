import { describeError } from "../pipeline/stream-state.ts";
import { ERROR_CODE, STREAM_OUTCOME, type StreamOutcome } from "../protocol.ts";
import { SseDecoder } from "../sse/decoder.ts";
import { withId } from "../sse/encode.ts";
import type { SseEvent } from "../sse/types.ts";
import type { InBandError, WireFormat } from "../upstream/format.ts";
import type { EventStore } from "./event-store.ts";

/**
 * A batch is written at most this long after its first event: bounds what an eviction can lose
 * while keeping rows to one per burst of tokens rather than one per token.
 */
export const FLUSH_INTERVAL_MS = 50;
/** A batch is also written once it holds this many bytes (the store itself cuts rows at `ROW_TEXT_BYTES`). */
export const FLUSH_BYTES = 128 * 1024;

/** Per-stream limits; exceeding one ends the stream with an explicit error event. */
export interface StreamLimits {
  readonly maxEvents: number;
  readonly maxBytes: number;
}

interface Reader {
  readonly controller: ReadableStreamDefaultController<Uint8Array>;
}

const encoder = new TextEncoder();

/** What readers are told when the stream's events cannot be stored (so it cannot be resumed). */
const STORAGE_ERROR: InBandError = {
  code: ERROR_CODE.internal,
  message: "the gateway could not store this answer, so it cannot be resumed; the answer is incomplete",
};

/**
 * One live stream inside its Durable Object: every event gets the next sequence number (an `id:`
 * line), is fanned out to every attached reader at once, and is stored in batches. Readers that
 * attach later get the log from their cursor, then follow live. The outcome is decided once.
 */
export class StreamSession {
  readonly #store: EventStore;
  readonly #format: WireFormat;
  readonly #limits: StreamLimits;
  readonly #now: () => number;
  readonly #onFinish: (outcome: StreamOutcome) => void;
  /** Every event of this stream so far (this instance saw it from the start). */
  readonly #log: string[] = [];
  readonly #readers = new Set<Reader>();
  #pending: string[] = [];
  #pendingBytes = 0;
  #flushedCount = 0;
  /** A write failed: the stored log ends with its error event and nothing more is stored. */
  #storeFailed = false;
  #bytes = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #outcome: StreamOutcome | undefined;
  /** Called to stop the upstream when the session ends early (cancel, limits). */
  abortUpstream: (reason: string) => void = () => {};
  /** Text appended as the very last event (the timings comment), computed when the stream ends. */
  trailer: () => string = () => "";
  /** Called when a reader resumes while the stream is live (counted in analytics). */
  onResume: () => void = () => {};

  constructor(
    store: EventStore,
    format: WireFormat,
    limits: StreamLimits,
    now: () => number,
    onFinish: (outcome: StreamOutcome) => void,
  ) {
    this.#store = store;
    this.#format = format;
    this.#limits = limits;
    this.#now = now;
    this.#onFinish = onFinish;
  }

  /** True until the outcome is decided. */
  get live(): boolean {
    return this.#outcome === undefined;
  }

  /** Characters sent so far. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Events so far (stored or not). */
  get count(): number {
    return this.#log.length;
  }

  /** Appends one pipeline event (ignored once the stream has ended, e.g. after a cancel). */
  append(ev: SseEvent): void {
    if (!this.live) return;
    // Blocks made only of blank lines carry nothing a client could observe: not worth a sequence number.
    if (!ev.hasData && ev.event === undefined && /^[\r\n]*$/.test(ev.raw)) return;
    if (
      this.#log.length + 1 > this.#limits.maxEvents ||
      this.#bytes + ev.raw.length > this.#limits.maxBytes
    ) {
      const which =
        this.#log.length + 1 > this.#limits.maxEvents
          ? `${this.#limits.maxEvents} events`
          : `${this.#limits.maxBytes} bytes`;
      this.end(STREAM_OUTCOME.interrupted, {
        code: ERROR_CODE.streamLimitExceeded,
        message: `the stream exceeded the gateway's limit of ${which}`,
      });
      return;
    }
    this.#push(ev);
  }

  #push(ev: SseEvent): void {
    const text = withId(ev, String(this.#log.length + 1));
    this.#log.push(text);
    this.#bytes += text.length;
    const bytes = encoder.encode(text);
    for (const r of this.#readers) r.controller.enqueue(bytes);
    if (this.#storeFailed) return;
    this.#pending.push(text);
    this.#pendingBytes += text.length;
    if (this.#pendingBytes >= FLUSH_BYTES) this.flush();
    else this.#timer ??= setTimeout(() => this.flush(), FLUSH_INTERVAL_MS);
  }

  /**
   * Writes the pending events as one batch. Never throws, since it runs from a timer and inside end():
   * a failed write ends the stream with an in-band error instead. False once any write has failed.
   */
  flush(): boolean {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#pending.length === 0 || this.#storeFailed) return !this.#storeFailed;
    const events = this.#pending;
    const bytes = this.#pendingBytes;
    this.#pending = [];
    this.#pendingBytes = 0;
    try {
      this.#store.appendBatch(this.#flushedCount + 1, events, bytes);
    } catch {
      this.#writeFailed();
      return false;
    }
    this.#flushedCount += events.length;
    return true;
  }

  /**
   * A write threw (storage full or reset). Left alone, the throw escaped end() before its readers were
   * closed, or a timer where nothing catches it: readers waited forever. Now they get the error event.
   */
  #writeFailed(): void {
    this.#storeFailed = true;
    // As after a restart (a lost stream), the stored events are followed by an explicit error, so a
    // reader served from storage does not take the stored prefix for the whole answer.
    const tail = this.#errorEvents(STORAGE_ERROR).map((ev, i) =>
      withId(ev, String(this.#flushedCount + 1 + i)),
    );
    try {
      this.#store.appendBatch(this.#flushedCount + 1, tail, tail.join("").length);
    } catch {
      // Storage refuses even that: the stored log just stops at its last good batch.
    }
    if (this.live) this.end(STREAM_OUTCOME.interrupted, STORAGE_ERROR);
    // The failed write was end()'s own last one: the outcome is decided, but the readers it is about
    // to close must still be told.
    else for (const ev of this.#errorEvents(STORAGE_ERROR)) this.#push(ev);
  }

  /** The format's in-band error event(s) for `error`, unnumbered. */
  #errorEvents(error: InBandError): SseEvent[] {
    const decoder = new SseDecoder();
    return [...decoder.push(this.#format.errorFrames(error)), ...decoder.end()];
  }

  /**
   * Ends the stream once: an `error` (cancel, limit, lost) is appended first as the format's own
   * in-band error event, then everything is stored and every reader is closed.
   */
  end(outcome: StreamOutcome, error?: InBandError, detail?: string): void {
    if (!this.live) return;
    // Decided first: a write that fails while the ending is stored must not start a second ending.
    this.#outcome = outcome;
    const decoder = new SseDecoder();
    const frames = `${error === undefined ? "" : this.#format.errorFrames(error)}${this.trailer()}`;
    for (const ev of [...decoder.push(frames), ...decoder.end()]) this.#push(ev);
    if (outcome !== STREAM_OUTCOME.complete && outcome !== STREAM_OUTCOME.interrupted)
      this.abortUpstream(outcome);
    else if (error !== undefined) this.abortUpstream(error.code);
    // An answer whose events could not all be stored cannot be replayed whole: it did not complete.
    const stored = this.flush();
    const final = stored ? outcome : STREAM_OUTCOME.interrupted;
    this.#outcome = final;
    const why = stored
      ? (detail ?? (error === undefined ? null : describeError(error)))
      : describeError(STORAGE_ERROR);
    try {
      this.#store.finish(final, why, this.#now());
    } catch {
      // Storage refuses even this small update: the readers must still be closed below.
    }
    for (const r of this.#readers) r.controller.close();
    this.#readers.clear();
    this.#onFinish(final);
  }

  /** A byte stream of every event after `after`, then live events until the end. */
  reader(after: number, prefix = ""): ReadableStream<Uint8Array> {
    let reader: Reader | undefined;
    return new ReadableStream<Uint8Array>({
      start: (controller) => {
        if (prefix) controller.enqueue(encoder.encode(prefix));
        for (let i = after; i < this.#log.length; i++) controller.enqueue(encoder.encode(this.#log[i] ?? ""));
        if (!this.live) controller.close();
        else {
          reader = { controller };
          this.#readers.add(reader);
        }
      },
      cancel: () => {
        // The client went away: the generation goes on, stored for when it comes back.
        if (reader !== undefined) this.#readers.delete(reader);
      },
    });
  }
}
