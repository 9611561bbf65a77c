import type { StreamOutcome } from "../protocol.ts";
import type { FormatName } from "../upstream/format.ts";

/**
 * The most UTF-8 bytes of events one `event_batch` row holds. Durable Object SQLite refuses any
 * string, BLOB or row over 2 MB ("Maximum string, BLOB or table row size: 2 MB",
 * developers.cloudflare.com/durable-objects/platform/limits/), and one upstream event alone can be
 * larger (a Gemini inline image, a big tool result). Half the limit leaves room for the row's other
 * columns and its record header whether "2 MB" means 2,000,000 or 2,097,152 bytes; smaller rows
 * would only cost more rows per big event.
 */
export const ROW_TEXT_BYTES = 1024 * 1024;

const encoder = new TextEncoder();

/**
 * Cuts `text` into pieces of at most `maxBytes` UTF-8 bytes (at least 4, one whole character),
 * always between characters: never inside a multi-byte sequence or a surrogate pair, so each
 * piece stays valid text in SQLite and the pieces join back to `text` exactly.
 */
export function splitUtf8(text: string, maxBytes: number): string[] {
  // A UTF-16 unit never takes more than 3 UTF-8 bytes (a pair: 4 bytes for 2 units), so the usual
  // batch, far under the bound, is not measured at all.
  if (text.length * 3 <= maxBytes) return [text];
  if (maxBytes < 4) throw new RangeError("a piece must hold at least one character (4 bytes)");
  const scratch = new Uint8Array(maxBytes);
  const pieces: string[] = [];
  for (let at = 0; at < text.length; ) {
    // encodeInto writes whole characters only: `read` ends where the next character would not fit.
    // A slice cut inside a pair leaves a lone surrogate last; it encodes as 3 bytes after at least
    // maxBytes - 1 others, so it never fits and the pair is never split.
    const { read } = encoder.encodeInto(text.slice(at, at + maxBytes), scratch);
    pieces.push(text.slice(at, at + read));
    at += read;
  }
  return pieces;
}

/**
 * UTF-8 bytes of `texts` together, the unit of `byte_count`: for the few events the gateway stores
 * without sending them through a session (the `lost` and storage-failure tails), which a session
 * would have counted from the bytes it encoded for its readers.
 */
export function utf8Length(texts: readonly string[]): number {
  let bytes = 0;
  for (const text of texts) bytes += encoder.encode(text).byteLength;
  return bytes;
}

/** One upstream attempt behind a stream, as its status lists it: never a key or a prompt. */
export type StoredAttempt =
  | {
      readonly target: string;
      readonly outcome: "failed";
      readonly status: number;
      readonly code: string;
      readonly message: string;
      readonly ms: number;
    }
  | { readonly target: string; readonly outcome: "answered" };

/** What is known about a stream, as stored. */
export interface StreamRecord {
  readonly streamId: string;
  readonly state: "streaming" | StreamOutcome;
  readonly detail: string | null;
  readonly model: string;
  readonly provider: string;
  readonly route: string;
  readonly format: FormatName;
  readonly owner: string;
  readonly createdAt: number;
  readonly finishedAt: number | null;
  /** Events durably stored (the sequence number of the last stored event). */
  readonly eventCount: number;
  /** UTF-8 bytes of the stored events' texts (see docs/storage.md for rows written before that unit). */
  readonly byteCount: number;
  /** The attempts that led to this stream, in order, the answering one last. */
  readonly attempts: readonly StoredAttempt[];
  /** Whether the answer came from a race started by the TTFT deadline. */
  readonly hedged: boolean;
}

/** One stream's waiting events, written by its host together with its other streams' (see FlushClock). */
export interface PendingBatch {
  readonly streamId: string;
  /** The sequence number of the first of `events`. */
  readonly firstSeq: number;
  readonly events: readonly string[];
  /** The events' UTF-8 length. */
  readonly bytes: number;
}

/** Stores many streams' batches in one write, all or nothing: a host's flush clock writes each tick with it. */
export interface BatchWriter {
  appendBatches(batches: readonly PendingBatch[]): void;
}

/** The storage port of one stream: its record and its events, written in batches. */
export interface EventStore {
  /** The stream this store holds. */
  readonly streamId: string;
  create(record: StreamRecord): void;
  record(): StreamRecord | undefined;
  /**
   * Stores events `firstSeq ... firstSeq + events.length - 1` as one batch (one row, or several when
   * it exceeds a row) and advances the counters, all or nothing; `bytes` is the events' UTF-8 length.
   */
  appendBatch(firstSeq: number, events: readonly string[], bytes: number): void;
  /** Every stored event with a sequence number above `after`, in order. */
  readAfter(after: number): string[];
  finish(state: StreamOutcome, detail: string | null, at: number): void;
  /** How many `event_batch` rows this stream has, parts included (for tests and the benchmark: rows per 1,000 events). */
  rowCount(): number;
  /** Deletes this stream: its record and every event (retention). */
  deleteAll(): Promise<void>;
}

interface StreamRow extends Record<string, SqlStorageValue> {
  stream_id: string;
  state: string;
  detail: string | null;
  model: string;
  provider: string;
  route: string;
  format: string;
  owner: string;
  created_at: number;
  finished_at: number | null;
  event_count: number;
  byte_count: number;
  attempts: string;
  hedged: number;
}

interface BatchRow extends Record<string, SqlStorageValue> {
  first_seq: number;
  events: string;
}

/** Appends to `out` the events of one stored batch (its JSON array) numbered above `after`. */
function pushAfter(out: string[], after: number, firstSeq: number, json: string): void {
  const events = JSON.parse(json) as string[];
  for (let i = Math.max(0, after - firstSeq + 1); i < events.length; i++) out.push(events[i] ?? "");
}

/**
 * EventStore over a Durable Object's SQLite storage for stream `streamId` (layout in docs/storage.md):
 * one row per batch, its JSON cut into `part` rows of at most ROW_TEXT_BYTES when it is bigger. The
 * object's other streams share the tables, every row keyed by its stream id.
 */
export class SqlEventStore implements EventStore {
  readonly #sql: SqlStorage;
  readonly #storage: DurableObjectStorage;
  readonly #id: string;

  constructor(storage: DurableObjectStorage, streamId: string) {
    this.#storage = storage;
    this.#sql = storage.sql;
    this.#id = streamId;
  }

  create(r: StreamRecord): void {
    // The record names the stream this store was opened for: one place decides which rows are whose.
    if (r.streamId !== this.#id) throw new Error("a stream record must be created in its own store");
    this.#sql.exec(
      `INSERT INTO stream (stream_id, state, detail, model, provider, route, format, owner, created_at, finished_at, event_count, byte_count, attempts, hedged)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      r.streamId,
      r.state,
      r.detail,
      r.model,
      r.provider,
      r.route,
      r.format,
      r.owner,
      r.createdAt,
      r.finishedAt,
      r.eventCount,
      r.byteCount,
      JSON.stringify(r.attempts),
      r.hedged ? 1 : 0,
    );
  }

  record(): StreamRecord | undefined {
    const row = this.#sql.exec<StreamRow>("SELECT * FROM stream WHERE stream_id = ?", this.#id).toArray()[0];
    return row === undefined ? undefined : recordOf(row);
  }

  get streamId(): string {
    return this.#id;
  }

  appendBatch(firstSeq: number, events: readonly string[], bytes: number): void {
    writeBatches(this.#storage, [{ streamId: this.#id, firstSeq, events, bytes }]);
  }

  readAfter(after: number): string[] {
    const rows = this.#sql.exec<BatchRow>(
      "SELECT first_seq, events FROM event_batch WHERE stream_id = ? AND last_seq > ? ORDER BY first_seq, part",
      this.#id,
      after,
    );
    const out: string[] = [];
    // The rows of one batch arrive together, in part order; the batch is parsed once it is whole.
    let first = 0;
    let json = "";
    for (const row of rows) {
      if (json !== "" && row.first_seq !== first) {
        pushAfter(out, after, first, json);
        json = "";
      }
      first = row.first_seq;
      json += row.events;
    }
    if (json !== "") pushAfter(out, after, first, json);
    return out;
  }

  finish(state: StreamOutcome, detail: string | null, at: number): void {
    this.#sql.exec(
      "UPDATE stream SET state = ?, detail = ?, finished_at = ? WHERE stream_id = ?",
      state,
      detail,
      at,
      this.#id,
    );
  }

  rowCount(): number {
    return this.#sql
      .exec<{ n: number }>("SELECT COUNT(*) AS n FROM event_batch WHERE stream_id = ?", this.#id)
      .one().n;
  }

  async deleteAll(): Promise<void> {
    this.#storage.transactionSync(() => {
      this.#sql.exec("DELETE FROM event_batch WHERE stream_id = ?", this.#id);
      this.#sql.exec("DELETE FROM stream WHERE stream_id = ?", this.#id);
    });
  }
}

/** Durable Object SQLite binds at most 100 parameters per statement: 20 rows of 5 columns. */
const ROWS_PER_INSERT = 20;

/** The INSERT of `n` rows (its text per n is built once: SQLite prepares each text once). */
const insertRows = (() => {
  const texts: string[] = [];
  return (n: number): string => {
    texts[n] ??= `INSERT INTO event_batch (stream_id, first_seq, part, last_seq, events) VALUES ${Array(n)
      .fill("(?, ?, ?, ?, ?)")
      .join(", ")}`;
    return texts[n];
  };
})();

/** Every stream's counters in one statement: a JSON array of `[stream_id, last_seq, bytes]`. */
const COUNT_ROWS = `UPDATE stream SET event_count = c.value ->> 1, byte_count = byte_count + (c.value ->> 2)
  FROM json_each(?) AS c WHERE stream.stream_id = c.value ->> 0`;

/**
 * Writes `batches` (at most one per stream) and their streams' counters in one transaction: a batch is
 * stored whole with its counters or not at all, so a failed write leaves no partial batch behind
 * (readAfter joins parts and must find them all). One transaction for the whole tick rather than one
 * per stream: measured at 250 ms ticks under 300 concurrent streams, 290 µs of workerd CPU per event
 * against 320 (docs/storage.md).
 */
function writeBatches(storage: DurableObjectStorage, batches: readonly PendingBatch[]): void {
  const sql = storage.sql;
  storage.transactionSync(() => {
    let values: SqlStorageValue[] = [];
    const insert = () => {
      if (values.length > 0) sql.exec(insertRows(values.length / 5), ...values);
      values = [];
    };
    const counts: [string, number, number][] = [];
    for (const b of batches) {
      const lastSeq = b.firstSeq + b.events.length - 1;
      for (const [part, text] of splitUtf8(JSON.stringify(b.events), ROW_TEXT_BYTES).entries()) {
        values.push(b.streamId, b.firstSeq, part, lastSeq, text);
        if (values.length === ROWS_PER_INSERT * 5) insert();
      }
      counts.push([b.streamId, lastSeq, b.bytes]);
    }
    insert();
    sql.exec(COUNT_ROWS, JSON.stringify(counts));
  });
}

/** BatchWriter over a Durable Object's SQLite storage (the tables SqlEventStore reads). */
export function sqlBatchWriter(storage: DurableObjectStorage): BatchWriter {
  return { appendBatches: (batches) => writeBatches(storage, batches) };
}

function recordOf(row: StreamRow): StreamRecord {
  return {
    streamId: row.stream_id,
    state: row.state as StreamRecord["state"],
    detail: row.detail,
    model: row.model,
    provider: row.provider,
    route: row.route,
    format: row.format as FormatName,
    owner: row.owner,
    createdAt: row.created_at,
    finishedAt: row.finished_at,
    eventCount: row.event_count,
    byteCount: row.byte_count,
    attempts: JSON.parse(row.attempts) as StoredAttempt[],
    hedged: row.hedged === 1,
  };
}

/** What the host's alarm needs to know about all the streams it holds. */
export interface HostIndex {
  /** Ids of the streams stored as still `streaming`. */
  streaming(): string[];
  /** Ids of the ended streams that ended at or before `before`. */
  endedBefore(before: number): string[];
  /** When the earliest ended stream ended, or undefined when none has. */
  earliestEnd(): number | undefined;
  /** Ids of at most `limit` of the streams held. */
  all(limit: number): string[];
}

/** HostIndex over the object's SQLite tables. */
export function sqlHostIndex(sql: SqlStorage): HostIndex {
  const ids = (query: string, ...args: SqlStorageValue[]) =>
    sql
      .exec<{ stream_id: string }>(query, ...args)
      .toArray()
      .map((r) => r.stream_id);
  return {
    streaming: () => ids("SELECT stream_id FROM stream WHERE state = 'streaming'"),
    endedBefore: (before) =>
      ids("SELECT stream_id FROM stream WHERE state != 'streaming' AND finished_at <= ?", before),
    earliestEnd: () =>
      sql
        .exec<{ at: number | null }>("SELECT MIN(finished_at) AS at FROM stream WHERE state != 'streaming'")
        .one().at ?? undefined,
    all: (limit) => ids("SELECT stream_id FROM stream LIMIT ?", limit),
  };
}
