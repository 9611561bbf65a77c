import type { StreamOutcome } from "../protocol.ts";
import type { FormatName } from "../upstream/format.ts";

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
  readonly byteCount: number;
}

/** The storage port of a stream: its record and its events, written in batches. */
export interface EventStore {
  create(record: StreamRecord): void;
  record(): StreamRecord | undefined;
  /** Stores events `firstSeq ... firstSeq + events.length - 1` as ONE row and advances the counters. */
  appendBatch(firstSeq: number, events: readonly string[], bytes: number): void;
  /** Every stored event with a sequence number above `after`, in order. */
  readAfter(after: number): string[];
  finish(state: StreamOutcome, detail: string | null, at: number): void;
  /** How many event rows exist (for tests and the benchmark: rows per 1,000 events). */
  rowCount(): number;
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
}

/** EventStore over a Durable Object's SQLite storage. */
export class SqlEventStore implements EventStore {
  readonly #sql: SqlStorage;
  readonly #storage: DurableObjectStorage;

  constructor(storage: DurableObjectStorage) {
    this.#storage = storage;
    this.#sql = storage.sql;
  }

  create(r: StreamRecord): void {
    this.#sql.exec(
      `INSERT INTO stream (id, stream_id, state, detail, model, provider, route, format, owner, created_at, finished_at, event_count, byte_count)
       VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
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
    );
  }

  record(): StreamRecord | undefined {
    const row = this.#sql.exec<StreamRow>("SELECT * FROM stream WHERE id = 1").toArray()[0];
    if (row === undefined) return undefined;
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
    };
  }

  appendBatch(firstSeq: number, events: readonly string[], bytes: number): void {
    const lastSeq = firstSeq + events.length - 1;
    this.#sql.exec(
      "INSERT INTO event_batch (first_seq, last_seq, events) VALUES (?, ?, ?)",
      firstSeq,
      lastSeq,
      JSON.stringify(events),
    );
    this.#sql.exec(
      "UPDATE stream SET event_count = ?, byte_count = byte_count + ? WHERE id = 1",
      lastSeq,
      bytes,
    );
  }

  readAfter(after: number): string[] {
    const rows = this.#sql
      .exec<{ first_seq: number; events: string }>(
        "SELECT first_seq, events FROM event_batch WHERE last_seq > ? ORDER BY first_seq",
        after,
      )
      .toArray();
    const out: string[] = [];
    for (const row of rows) {
      const events = JSON.parse(row.events) as string[];
      const skip = Math.max(0, after - row.first_seq + 1);
      for (let i = skip; i < events.length; i++) out.push(events[i] ?? "");
    }
    return out;
  }

  finish(state: StreamOutcome, detail: string | null, at: number): void {
    this.#sql.exec(
      "UPDATE stream SET state = ?, detail = ?, finished_at = ? WHERE id = 1",
      state,
      detail,
      at,
    );
  }

  rowCount(): number {
    return this.#sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM event_batch").one().n;
  }

  async deleteAll(): Promise<void> {
    await this.#storage.deleteAll();
  }
}
