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
/** A batch is also written once it holds this many bytes, keeping rows far below SQLite's 2 MB row limit. */
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
    this.#pending.push(text);
    this.#pendingBytes += text.length;
    const bytes = encoder.encode(text);
    for (const r of this.#readers) r.controller.enqueue(bytes);
    if (this.#pendingBytes >= FLUSH_BYTES) this.flush();
    else this.#timer ??= setTimeout(() => this.flush(), FLUSH_INTERVAL_MS);
  }

  /** Writes the pending events as one row. */
  flush(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#pending.length === 0) return;
    this.#store.appendBatch(this.#flushedCount + 1, this.#pending, this.#pendingBytes);
    this.#flushedCount += this.#pending.length;
    this.#pending = [];
    this.#pendingBytes = 0;
  }

  /**
   * Ends the stream once: an `error` (cancel, limit, lost) is appended first as the format's own
   * in-band error event, then everything is stored and every reader is closed.
   */
  end(outcome: StreamOutcome, error?: InBandError, detail?: string): void {
    if (!this.live) return;
    const decoder = new SseDecoder();
    const frames = `${error === undefined ? "" : this.#format.errorFrames(error)}${this.trailer()}`;
    for (const ev of [...decoder.push(frames), ...decoder.end()]) this.#push(ev);
    this.#outcome = outcome;
    if (outcome !== STREAM_OUTCOME.complete && outcome !== STREAM_OUTCOME.interrupted)
      this.abortUpstream(outcome);
    else if (error !== undefined) this.abortUpstream(error.code);
    this.flush();
    this.#store.finish(outcome, detail ?? error?.code ?? null, this.#now());
    for (const r of this.#readers) r.controller.close();
    this.#readers.clear();
    this.#onFinish(outcome);
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
