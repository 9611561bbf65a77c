import { QuietTimer } from "../pipeline/quiet-timer.ts";
import { describeError } from "../pipeline/stream-state.ts";
import { ERROR_CODE, STREAM_OUTCOME, type StreamOutcome } from "../protocol.ts";
import { commentEvent, withId } from "../sse/encode.ts";
import type { SseEvent } from "../sse/types.ts";
import type { InBandError, WireFormat } from "../upstream/format.ts";
import {
  type BatchWriter,
  type EventStore,
  type PendingBatch,
  type StreamRecord,
  utf8Length,
} from "./event-store.ts";

/**
 * A batch is written at most this long after its first event: bounds what an eviction can lose
 * (events the client got but storage not: they end as `lost` after the stored ones) while keeping
 * rows to one per burst of tokens rather than one per token. Each tick costs a host a commit, which
 * outweighs the rows it carries: 250 ms rather than 50 cut CPU per stored event by a quarter under
 * 300 concurrent streams, and 500 rather than 250 another 4 to 6% under 500; 1,000 gained nothing
 * more (docs/storage.md).
 */
export const FLUSH_INTERVAL_MS = 500;
/** A batch is also written once it holds this many UTF-8 bytes (the store itself cuts rows at `ROW_TEXT_BYTES`). */
export const FLUSH_BYTES = 128 * 1024;

/** Per-stream limits; exceeding one ends the stream with an explicit error event. */
export interface StreamLimits {
  readonly maxEvents: number;
  /** UTF-8 bytes of the numbered events, as readers receive them (`id:` lines included). */
  readonly maxBytes: number;
}

/** Something with events waiting to be written. */
export interface Flushable {
  /** Writes its waiting events by itself; false once any write has failed. */
  flush(): boolean;
  /** Hands over its waiting events for a write together with others' (undefined: none). */
  take(): PendingBatch | undefined;
  /** How that write went: when it failed, the events are written again alone (so one stream's failure stays its own). */
  settle(batch: PendingBatch, stored: boolean): void;
}

/** A stream that has ended and waits for the write its last batch joins (see `FlushClock.ending`). */
export interface Ending extends Flushable {
  /** Its last batch was written (or failed alone): decide the outcome, store it, close the readers. */
  closeEnded(): void;
}

/**
 * Writes waiting batches at most FLUSH_INTERVAL_MS after they were asked for. One clock serves every
 * stream of an object: with a writer, their batches go in one write per tick (one transaction of a
 * few statements, one commit and one output-gate wait, not one of each per stream).
 */
export class FlushClock {
  readonly #due = new Set<Flushable>();
  readonly #ending = new Set<Ending>();
  readonly #writer: BatchWriter | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #endTimer: ReturnType<typeof setTimeout> | undefined;

  /** Without a writer, each stream writes its own batch at the tick. */
  constructor(writer?: BatchWriter) {
    this.#writer = writer;
  }

  /** With a writer, an ending stream joins a shared write (`ending`); without one, it writes its own at once. */
  get shares(): boolean {
    return this.#writer !== undefined;
  }

  /**
   * `f`'s stream ended: its last batch goes in one write with those of every other stream that ends
   * before the next turn, and then `f` closes. Streams of a host tend to end together (many answers
   * started in one burst, or a backlog drained at once), and one write of its own per end, on the thread
   * every stream shares, made the worst gaps between events under 500 streams (docs/storage.md). Idle,
   * the wait is one turn.
   */
  ending(f: Ending): void {
    this.withdraw(f);
    this.#ending.add(f);
    this.#endTimer ??= setTimeout(() => this.settleEnding(), 0);
  }

  /** Writes and closes the ending streams now (also for a caller that must see an end stored: a cancel, the alarm). */
  settleEnding(): void {
    if (this.#endTimer !== undefined) clearTimeout(this.#endTimer);
    this.#endTimer = undefined;
    const ending = [...this.#ending];
    this.#ending.clear();
    if (ending.length === 0) return;
    this.#write(ending);
    for (const f of ending) settled(() => f.closeEnded());
  }

  request(f: Flushable): void {
    this.#due.add(f);
    this.#timer ??= setTimeout(() => this.#tick(), FLUSH_INTERVAL_MS);
  }

  /** `f` wrote its batch by itself (it filled up, or its stream ended): no timer stays for nothing. */
  withdraw(f: Flushable): void {
    if (!this.#due.delete(f) || this.#due.size > 0 || this.#timer === undefined) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #tick(): void {
    this.#timer = undefined;
    const due = [...this.#due];
    this.#due.clear();
    this.#write(due);
  }

  /** One write of every batch `due` holds; each stream then learns how it went. */
  #write(due: readonly Flushable[]): void {
    const writer = this.#writer;
    if (writer === undefined) {
      for (const f of due) settled(() => f.flush());
      return;
    }
    const taken: [Flushable, PendingBatch][] = [];
    for (const f of due) {
      // One stream's failing take must not strand the others (nor, when ending, leave them unclosed).
      settled(() => {
        const batch = f.take();
        if (batch !== undefined) taken.push([f, batch]);
      });
    }
    if (taken.length === 0) return;
    let stored = true;
    try {
      writer.appendBatches(taken.map(([, b]) => b));
    } catch {
      stored = false;
    }
    for (const [f, b] of taken) settled(() => f.settle(b, stored));
  }
}

/** Runs one stream's part of a tick: its failing end must not strand the others' batches. */
function settled(run: () => unknown): void {
  try {
    run();
  } catch {
    // That stream's own error handling has run (or cannot); the others go on.
  }
}

interface Reader {
  readonly controller: ReadableStreamDefaultController<Uint8Array>;
  /** The reader's one pull (see `reader`), settled by `release` once it is closed or cancelled. */
  readonly released: Promise<void>;
  readonly release: () => void;
  /** Whether anything was queued for it yet (its pull before that says nothing about bytes leaving). */
  given: boolean;
}

const encoder = new TextEncoder();

/** A keep-alive: an SSE comment every client ignores. */
const KEEPALIVE = encoder.encode(": keepalive\n\n");

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
export class StreamSession implements Ending {
  readonly #store: EventStore;
  readonly #format: WireFormat;
  readonly #limits: StreamLimits;
  readonly #now: () => number;
  readonly #onFinish: (outcome: StreamOutcome) => void;
  readonly #clock: FlushClock;
  /** Every event of this stream so far (this instance saw it from the start). */
  readonly #log: string[] = [];
  readonly #readers = new Set<Reader>();
  #keepAlive: QuietTimer | undefined;
  #pending: string[] = [];
  #pendingBytes = 0;
  #flushedCount = 0;
  /** A write failed: the stored log ends with its error event and nothing more is stored. */
  #storeFailed = false;
  #bytes = 0;
  #outcome: StreamOutcome | undefined;
  /** The stream's record, until it is stored (see `deferRecord`). */
  #record: StreamRecord | undefined;
  #recordScheduled = false;
  /** Ended, waiting for the clock's shared write before it closes (see `FlushClock.ending`). */
  #closing: { readonly error: InBandError | undefined; readonly detail: string | undefined } | undefined;
  /** Called to stop the upstream when the session ends early (cancel, limits). */
  abortUpstream: (reason: string) => void = () => {};
  /**
   * One SSE comment block (`: ...`, blank line) appended as the very last event (the timings), computed
   * when the stream ends; "" for none.
   */
  trailer: () => string = () => "";
  /** Called when a reader resumes while the stream is live (counted in analytics). */
  onResume: () => void = () => {};

  constructor(
    store: EventStore,
    format: WireFormat,
    limits: StreamLimits,
    now: () => number,
    onFinish: (outcome: StreamOutcome) => void,
    clock: FlushClock = new FlushClock(),
  ) {
    this.#clock = clock;
    this.#store = store;
    this.#format = format;
    this.#limits = limits;
    this.#now = now;
    this.#onFinish = onFinish;
  }

  /**
   * The stream's record is stored once its first bytes have left (a reader took them), or with its first
   * batch, or at its end, whichever comes first, or when the host is asked about it. Written before the
   * first bytes, it held them back: a Durable Object's output gate keeps what it sends until its writes
   * are confirmed (measured: +0.8 ms to the first byte, one SQLite commit).
   */
  deferRecord(record: StreamRecord): void {
    this.#record = record;
  }

  /** Stores the record now if it still waits; false when storing has failed (the stream then ends, as after any failed write). */
  storeRecord(): boolean {
    const record = this.#record;
    if (record === undefined) return !this.#storeFailed;
    this.#record = undefined;
    try {
      this.#store.create(record);
      return true;
    } catch {
      // Nothing of the stream is stored, so nothing is appended after it: readers are told, and it ends.
      this.#storeFailed = true;
      if (this.live) this.end(STREAM_OUTCOME.interrupted, STORAGE_ERROR);
      else for (const ev of this.#format.errorEvents(STORAGE_ERROR)) this.#push(ev);
      return false;
    }
  }

  /** A reader took its first bytes: the record is written right after (in a later turn, so they leave first). */
  #firstBytesOut(): void {
    if (this.#record === undefined || this.#recordScheduled) return;
    this.#recordScheduled = true;
    setTimeout(() => this.storeRecord(), 0);
  }

  /**
   * Writes an SSE comment to every live reader when nothing was written for `ms` (0: never), so
   * proxies do not cut a stream while a model thinks. Never numbered, stored or counted: a replay
   * does not see it.
   */
  keepAlive(ms: number): void {
    if (ms <= 0 || !this.live) return;
    this.#keepAlive = new QuietTimer(
      () => ms,
      () => {
        for (const r of this.#readers) r.controller.enqueue(KEEPALIVE);
      },
    );
  }

  /** True until the outcome is decided. */
  get live(): boolean {
    return this.#outcome === undefined;
  }

  /** UTF-8 bytes of the events so far, as every reader receives them (`id:` lines included). */
  get bytes(): number {
    return this.#bytes;
  }

  /** Events so far (stored or not). */
  get count(): number {
    return this.#log.length;
  }

  /** Readers attached now: a reader whose client went away is detached (its stream was cancelled). */
  get readers(): number {
    return this.#readers.size;
  }

  /** Appends one pipeline event (ignored once the stream has ended, e.g. after a cancel). */
  append(ev: SseEvent): void {
    if (!this.live) return;
    // Blocks made only of blank lines carry nothing a client could observe: not worth a sequence number.
    if (!ev.hasData && ev.event === undefined && /^[\r\n]*$/.test(ev.raw)) return;
    // Measured as sent: the numbered text, encoded once for every reader and counted from those bytes.
    const text = withId(ev, String(this.#log.length + 1));
    const bytes = encoder.encode(text);
    const tooMany = this.#log.length + 1 > this.#limits.maxEvents;
    if (tooMany || this.#bytes + bytes.byteLength > this.#limits.maxBytes) {
      const which = tooMany ? `${this.#limits.maxEvents} events` : `${this.#limits.maxBytes} bytes`;
      this.end(STREAM_OUTCOME.interrupted, {
        code: ERROR_CODE.streamLimitExceeded,
        message: `the stream exceeded the gateway's limit of ${which}`,
      });
      return;
    }
    this.#send(text, bytes);
  }

  /** Numbers `ev` as the next event and sends it (the gateway's own events, past the limits). */
  #push(ev: SseEvent): void {
    const text = withId(ev, String(this.#log.length + 1));
    this.#send(text, encoder.encode(text));
  }

  /** Logs, fans out and queues for storage one numbered event; `bytes` is its UTF-8 encoding. */
  #send(text: string, bytes: Uint8Array): void {
    this.#log.push(text);
    this.#bytes += bytes.byteLength;
    for (const r of this.#readers) {
      r.controller.enqueue(bytes);
      r.given = true;
    }
    this.#keepAlive?.touch();
    if (this.#storeFailed) return;
    this.#pending.push(text);
    this.#pendingBytes += bytes.byteLength;
    if (this.#pendingBytes >= FLUSH_BYTES) this.flush();
    else this.#clock.request(this);
  }

  /**
   * Writes the pending events as one batch. Never throws, since it runs from a timer and inside end():
   * a failed write ends the stream with an in-band error instead. False once any write has failed.
   */
  flush(): boolean {
    this.#clock.withdraw(this);
    const batch = this.take();
    if (batch === undefined) return !this.#storeFailed;
    try {
      this.#store.appendBatch(batch.firstSeq, batch.events, batch.bytes);
    } catch {
      this.#writeFailed();
      return false;
    }
    this.#flushedCount += batch.events.length;
    return true;
  }

  take(): PendingBatch | undefined {
    if (this.#pending.length === 0 || !this.storeRecord()) return undefined;
    const batch = {
      streamId: this.#store.streamId,
      firstSeq: this.#flushedCount + 1,
      events: this.#pending,
      bytes: this.#pendingBytes,
    };
    this.#pending = [];
    this.#pendingBytes = 0;
    return batch;
  }

  settle(batch: PendingBatch, stored: boolean): void {
    if (stored) {
      this.#flushedCount += batch.events.length;
      return;
    }
    // Nothing of it was stored (the write is all or nothing): written again alone, it fails, or not, on its own.
    this.#pending = [...batch.events, ...this.#pending];
    this.#pendingBytes += batch.bytes;
    this.flush();
  }

  /**
   * A write threw (storage full or reset). Left alone, the throw escaped end() before its readers were
   * closed, or a timer where nothing catches it: readers waited forever. Now they get the error event.
   */
  #writeFailed(): void {
    this.#storeFailed = true;
    // As after a restart (a lost stream), the stored events are followed by an explicit error, so a
    // reader served from storage does not take the stored prefix for the whole answer.
    const tail = this.#format
      .errorEvents(STORAGE_ERROR)
      .map((ev, i) => withId(ev, String(this.#flushedCount + 1 + i)));
    try {
      this.#store.appendBatch(this.#flushedCount + 1, tail, utf8Length(tail));
    } catch {
      // Storage refuses even that: the stored log just stops at its last good batch.
    }
    if (this.live) this.end(STREAM_OUTCOME.interrupted, STORAGE_ERROR);
    // The failed write was end()'s own last one: the outcome is decided, but the readers it is about
    // to close must still be told.
    else for (const ev of this.#format.errorEvents(STORAGE_ERROR)) this.#push(ev);
  }

  /**
   * Ends the stream once: an `error` (cancel, limit, lost) is appended first as the format's own
   * in-band error event, then everything is stored and every reader is closed: at once without a
   * writer, after the write it shares with the other streams ending in this turn with one.
   */
  end(outcome: StreamOutcome, error?: InBandError, detail?: string): void {
    if (!this.live) return;
    // Decided first: a write that fails while the ending is stored must not start a second ending.
    this.#outcome = outcome;
    if (error !== undefined) for (const ev of this.#format.errorEvents(error)) this.#push(ev);
    const trailer = this.trailer();
    if (trailer !== "") this.#push(commentEvent(trailer));
    this.#keepAlive?.stop();
    if (this.#clock.shares) {
      this.#closing = { error, detail };
      this.#clock.ending(this);
      return;
    }
    this.#close(outcome, error, detail);
  }

  closeEnded(): void {
    const closing = this.#closing;
    const outcome = this.#outcome;
    if (closing === undefined || outcome === undefined) return;
    this.#closing = undefined;
    this.#close(outcome, closing.error, closing.detail);
  }

  /** The end, once its last batch is written: stores the outcome, closes the readers, tells the listener. */
  #close(outcome: StreamOutcome, error: InBandError | undefined, detail: string | undefined): void {
    // An answer whose events could not all be stored cannot be replayed whole: it did not complete.
    const stored = this.storeRecord() && this.flush();
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
    for (const r of this.#readers) {
      r.controller.close();
      r.release();
    }
    this.#readers.clear();
    // Decided before the upstream is stopped: stopping it cancels the pipeline, which would otherwise
    // take the session's own ending (a limit, a cancel) for a client that went away.
    this.#onFinish(final);
    if (outcome !== STREAM_OUTCOME.complete && outcome !== STREAM_OUTCOME.interrupted)
      this.abortUpstream(outcome);
    else if (error !== undefined) this.abortUpstream(error.code);
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
          let release = () => {};
          const released = new Promise<void>((resolve) => {
            release = resolve;
          });
          reader = { controller, released, release, given: this.#log.length > after || prefix !== "" };
          this.#readers.add(reader);
        }
      },
      // Called once the queue the reader was given has been taken (its first bytes are out). It settles
      // only when the reader ends, so it is not called again: live events are pushed, and a pull per
      // event would cost for nothing (a pull left pending after the end keeps the object from eviction).
      pull: () => {
        if (reader === undefined || !reader.given) return undefined;
        this.#firstBytesOut();
        return reader.released;
      },
      cancel: () => {
        // The client went away: the generation goes on, stored for when it comes back.
        if (reader === undefined) return;
        this.#readers.delete(reader);
        reader.release();
      },
    });
  }
}
