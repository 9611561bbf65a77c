import { describe, expect, it } from "vitest";
import { type EventStore, ROW_TEXT_BYTES, type StreamRecord } from "../../src/resumable/event-store.ts";

// Imports only vitest and src/: the suite also runs inside workerd (test/workers/), where no node: module exists.

/** A store as a test body gets it: empty, and how its owner gets it back after `deleteAll()`. */
export interface StoreHarness {
  readonly store: EventStore;
  /**
   * The store as its owner has it again after `deleteAll()`: the stream object migrates its schema
   * afresh, since SQLite's deleteAll drops the tables too; an in-memory store is simply the same one.
   */
  readonly reopen: () => EventStore;
}

/**
 * Runs `body` against a fresh, empty store and resolves with its result. A runner rather than a
 * factory because a SQL store exists only inside `runInDurableObject`'s callback.
 */
export type WithStore = <R>(body: (harness: StoreHarness) => R | Promise<R>) => Promise<R>;

/** A stream record as the stream object creates it, before any event. */
export const NEW_RECORD: StreamRecord = {
  streamId: "AAAAAAAAAAAAAAAAAAAAAA",
  state: "streaming",
  detail: null,
  model: "openai/gpt-test",
  provider: "openai",
  route: "native",
  format: "openai-chat",
  owner: "anonymous",
  createdAt: 1_700_000_000_000,
  finishedAt: null,
  eventCount: 0,
  byteCount: 0,
  attempts: [{ target: "openai/gpt-test", outcome: "answered" }],
  hedged: false,
};

const FIVE_MB = 5 * 1024 * 1024;
const encoder = new TextEncoder();
const utf8Bytes = (s: string) => encoder.encode(s).length;

/** An SSE event text as the session stores it: content, then its `id:` line. */
function sse(seq: number, content: string): string {
  return `data: ${JSON.stringify({ choices: [{ delta: { content } }] })}\nid: ${seq}\n\n`;
}

/** Appends `events` one batch each, numbered from 1, each counted at its UTF-8 size. */
function appendEach(store: EventStore, events: readonly string[]): void {
  for (const [i, e] of events.entries()) store.appendBatch(i + 1, [e], utf8Bytes(e));
}

/** A store with NEW_RECORD created in it. */
function created(store: EventStore): EventStore {
  store.create(NEW_RECORD);
  return store;
}

/**
 * The behaviour every EventStore must have, as StreamSession and the stream object rely on it:
 * one suite, run against SqlEventStore inside a Durable Object and against MemoryEventStore on Node,
 * so a store that passes it can stand in for the other.
 */
export function eventStoreContract(name: string, withStore: WithStore): void {
  describe(`${name} (EventStore contract)`, () => {
    it("has no record until one is created, then gives it back field for field", async () => {
      await withStore(({ store }) => {
        expect(store.record()).toBeUndefined();
        expect(store.readAfter(0)).toEqual([]);
        expect(store.rowCount()).toBe(0);
        store.create(NEW_RECORD);
        expect(store.record()).toEqual(NEW_RECORD);
      });
    });

    it("refuses a second record: one store holds one stream", async () => {
      await withStore(({ store }) => {
        created(store);
        expect(() => store.create({ ...NEW_RECORD, streamId: "BBBBBBBBBBBBBBBBBBBBBB" })).toThrow();
        expect(store.record()?.streamId).toBe(NEW_RECORD.streamId);
      });
    });

    it("advances the event count to each batch's last sequence number and adds the bytes it is told", async () => {
      await withStore(({ store }) => {
        created(store);
        store.appendBatch(1, [sse(1, "a"), sse(2, "b")], 100);
        expect(store.record()).toMatchObject({ eventCount: 2, byteCount: 100 });
        // The byte count is the caller's figure, added as given (the store never measures events).
        store.appendBatch(3, [sse(3, "c")], 7);
        expect(store.record()).toMatchObject({ eventCount: 3, byteCount: 107, state: "streaming" });
        expect(store.rowCount()).toBe(2);
      });
    });

    it("keeps a flush window of 1,000 small events in one row", async () => {
      const events = Array.from({ length: 1000 }, (_, i) => sse(i + 1, `t${i} `));
      await withStore(({ store }) => {
        created(store);
        store.appendBatch(1, events, events.join("").length);
        expect(store.rowCount()).toBe(1);
        expect(store.readAfter(0)).toEqual(events);
        expect(store.readAfter(997)).toEqual(events.slice(997));
        expect(store.record()?.eventCount).toBe(1000);
      });
    });

    it("reads every event after any cursor, from the middle of a batch too, in order", async () => {
      const events = Array.from({ length: 9 }, (_, i) => sse(i + 1, `e${i + 1}`));
      await withStore(({ store }) => {
        created(store);
        // Batches 1-3, 4, 5-9: cursors fall before, inside and at the end of each.
        store.appendBatch(1, events.slice(0, 3), 0);
        store.appendBatch(4, events.slice(3, 4), 0);
        store.appendBatch(5, events.slice(4), 0);
        for (let after = 0; after <= events.length; after++) {
          expect(store.readAfter(after), `after ${after}`).toEqual(events.slice(after));
        }
        expect(store.readAfter(events.length + 10)).toEqual([]);
      });
    });

    it("stores a batch of exactly ROW_TEXT_BYTES in one row, and one byte more in two", async () => {
      // The stored text is the batch's JSON array: `["` + event + `"]`, 4 bytes around an ASCII event.
      const exact = "x".repeat(ROW_TEXT_BYTES - 4);
      const over = "y".repeat(ROW_TEXT_BYTES - 3);
      await withStore(({ store }) => {
        created(store);
        store.appendBatch(1, [exact], exact.length);
        expect(store.rowCount()).toBe(1);
        store.appendBatch(2, [over], over.length);
        expect(store.rowCount()).toBe(3);
        expect(store.readAfter(0)).toEqual([exact, over]);
        expect(store.readAfter(1)).toEqual([over]);
      });
    });

    it("keeps multi-byte characters and surrogate pairs whole where a batch is cut", async () => {
      // The row bound falls 1, 2 or 3 bytes into a 2-, 3- or 4-byte character (the last a surrogate pair).
      const events: string[] = [];
      for (const ch of ["é", "€", "😀"]) {
        for (let shift = 1; shift <= 3; shift++) {
          events.push("a".repeat(ROW_TEXT_BYTES - 2 - shift) + ch.repeat(1000));
        }
      }
      await withStore(({ store }) => {
        created(store);
        appendEach(store, events);
        expect(store.rowCount()).toBe(events.length * 2);
        expect(store.readAfter(0)).toEqual(events);
      });
    });

    it("reads a 5 MB event between small ones back whole from every cursor", async () => {
      const unit = "🖼️ inline image é€ ";
      const big = sse(4, unit.repeat(Math.ceil(FIVE_MB / utf8Bytes(unit))));
      const events = [sse(1, "a"), sse(2, "b"), sse(3, "c"), big, sse(5, "d"), sse(6, "e"), sse(7, "f")];
      expect(utf8Bytes(big)).toBeGreaterThan(FIVE_MB);
      await withStore(({ store }) => {
        created(store);
        store.appendBatch(1, events.slice(0, 3), 0);
        store.appendBatch(4, [big], utf8Bytes(big));
        store.appendBatch(5, events.slice(4), 0);
        // Two small batches of one row each, and the big one cut into at least its size in rows.
        expect(store.rowCount()).toBeGreaterThanOrEqual(2 + Math.ceil(utf8Bytes(big) / ROW_TEXT_BYTES));
        expect(store.record()).toMatchObject({ eventCount: 7, byteCount: utf8Bytes(big) });
        for (let after = 0; after <= events.length; after++) {
          // Compared by length first: a failed toEqual on 5 MB strings would print them whole.
          const read = store.readAfter(after);
          expect(read.map((e) => e.length)).toEqual(events.slice(after).map((e) => e.length));
          expect(read.join("") === events.slice(after).join(""), `after ${after}`).toBe(true);
        }
      });
    });

    it("refuses a batch stored again under its first sequence number, all or nothing", async () => {
      const big = "z".repeat(2 * ROW_TEXT_BYTES);
      await withStore(({ store }) => {
        created(store);
        store.appendBatch(1, [sse(1, "a")], 1);
        store.appendBatch(2, [sse(2, "b")], 1);
        // Even a batch of several rows leaves none of them behind, nor a counter moved.
        expect(() => store.appendBatch(2, [big], big.length)).toThrow();
        expect(store.record()).toMatchObject({ eventCount: 2, byteCount: 2 });
        expect(store.rowCount()).toBe(2);
        expect(store.readAfter(0)).toEqual([sse(1, "a"), sse(2, "b")]);
      });
    });

    it("keeps the events as they were appended, whatever the caller does with its array afterwards", async () => {
      await withStore(({ store }) => {
        created(store);
        const batch = [sse(1, "a"), sse(2, "b")];
        store.appendBatch(1, batch, 0);
        batch[0] = "changed";
        batch.push("more");
        expect(store.readAfter(0)).toEqual([sse(1, "a"), sse(2, "b")]);
      });
    });

    it("records the outcome, its detail and its time on finish, counters untouched", async () => {
      await withStore(({ store }) => {
        created(store);
        store.appendBatch(1, [sse(1, "a")], 10);
        store.finish(
          "interrupted",
          "upstream_interrupted: the upstream stream ended early",
          1_700_000_005_000,
        );
        expect(store.record()).toEqual({
          ...NEW_RECORD,
          state: "interrupted",
          detail: "upstream_interrupted: the upstream stream ended early",
          finishedAt: 1_700_000_005_000,
          eventCount: 1,
          byteCount: 10,
        });
        expect(store.readAfter(0)).toEqual([sse(1, "a")]);
      });
    });

    it("records a complete stream with no detail", async () => {
      await withStore(({ store }) => {
        created(store);
        store.finish("complete", null, 1_700_000_001_000);
        expect(store.record()).toMatchObject({
          state: "complete",
          detail: null,
          finishedAt: 1_700_000_001_000,
        });
      });
    });

    it("forgets the record and every row on deleteAll, and holds a new stream after it", async () => {
      await withStore(async ({ store, reopen }) => {
        created(store);
        appendEach(store, [sse(1, "a"), sse(2, "b")]);
        store.finish("complete", null, 1);
        await store.deleteAll();
        const again = reopen();
        expect(again.record()).toBeUndefined();
        expect(again.readAfter(0)).toEqual([]);
        expect(again.rowCount()).toBe(0);
        again.create(NEW_RECORD);
        expect(again.record()).toEqual(NEW_RECORD);
      });
    });
  });
}
