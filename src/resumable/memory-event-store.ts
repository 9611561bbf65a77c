import type { StreamOutcome } from "../protocol.ts";
import { type EventStore, ROW_TEXT_BYTES, type StreamRecord, splitUtf8 } from "./event-store.ts";

/** One stored batch: its sequence range, its events, and how many rows SQLite would have used for it. */
interface Batch {
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly events: readonly string[];
  readonly rows: number;
}

/**
 * EventStore in memory, behaving as SqlEventStore does (the contract suite in
 * test/support/event-store-contract.ts runs against both): for unit tests and the benchmark, where
 * no Durable Object exists. It counts the rows SQLite would write, cut at ROW_TEXT_BYTES, so rows
 * per 1,000 events read the same on both stores.
 */
export class MemoryEventStore implements EventStore {
  readonly streamId: string;
  #record: StreamRecord | undefined;
  /** In `firstSeq` order, as SQLite returns them. */
  #batches: Batch[] = [];

  constructor(streamId = "stream") {
    this.streamId = streamId;
  }

  create(record: StreamRecord): void {
    // SQLite's `stream` table holds one row (id = 1): a second INSERT fails on its key.
    if (this.#record !== undefined) throw new Error("a stream record already exists");
    this.#record = { ...record };
  }

  record(): StreamRecord | undefined {
    return this.#record === undefined ? undefined : { ...this.#record };
  }

  appendBatch(firstSeq: number, events: readonly string[], bytes: number): void {
    // The key is (first_seq, part): a batch stored again under the same first sequence number fails
    // whole, its counters untouched, as the SQL transaction rolls back.
    if (this.#batches.some((b) => b.firstSeq === firstSeq)) {
      throw new Error(`a batch starting at ${firstSeq} is already stored`);
    }
    const lastSeq = firstSeq + events.length - 1;
    // The rows SQLite would use: the batch's JSON cut at ROW_TEXT_BYTES, exactly as SqlEventStore cuts it.
    const rows = splitUtf8(JSON.stringify(events), ROW_TEXT_BYTES).length;
    const batch: Batch = { firstSeq, lastSeq, events: [...events], rows };
    const at = this.#batches.findIndex((b) => b.firstSeq > firstSeq);
    if (at === -1) this.#batches.push(batch);
    else this.#batches.splice(at, 0, batch);
    // As the SQL UPDATE: no record, nothing to count on (the batch itself is still stored).
    if (this.#record !== undefined) {
      this.#record = {
        ...this.#record,
        eventCount: lastSeq,
        byteCount: this.#record.byteCount + bytes,
      };
    }
  }

  readAfter(after: number): string[] {
    const out: string[] = [];
    for (const b of this.#batches) {
      if (b.lastSeq <= after) continue;
      for (let i = Math.max(0, after - b.firstSeq + 1); i < b.events.length; i++) out.push(b.events[i] ?? "");
    }
    return out;
  }

  finish(state: StreamOutcome, detail: string | null, at: number): void {
    if (this.#record !== undefined) this.#record = { ...this.#record, state, detail, finishedAt: at };
  }

  rowCount(): number {
    let rows = 0;
    for (const b of this.#batches) rows += b.rows;
    return rows;
  }

  async deleteAll(): Promise<void> {
    this.#record = undefined;
    this.#batches = [];
  }
}
