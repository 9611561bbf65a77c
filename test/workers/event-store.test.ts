import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ROW_TEXT_BYTES, SqlEventStore, sqlBatchWriter } from "../../src/resumable/event-store.ts";
import { migrate } from "../../src/resumable/schema.ts";
import { eventStoreContract, NEW_RECORD, type WithStore } from "../support/event-store-contract.ts";

/** A fresh stream object of its own (the real class, its schema migrated by its constructor). */
function freshObject(): DurableObjectStub {
  if (env.STREAMS === undefined) throw new Error("STREAMS is not bound");
  return env.STREAMS.get(env.STREAMS.idFromName(crypto.randomUUID()));
}

/** Runs the contract's test bodies against a SqlEventStore over a fresh object's SQLite. */
const withSqlStore: WithStore = (body) =>
  runInDurableObject(freshObject(), (_instance, state) =>
    body({
      store: new SqlEventStore(state.storage, NEW_RECORD.streamId),
      // The object's other streams share the tables: deleting one stream leaves them in place.
      reopen: () => new SqlEventStore(state.storage, NEW_RECORD.streamId),
    }),
  );

eventStoreContract("SqlEventStore", withSqlStore);

/** Runs `fn` against a SqlEventStore over a fresh object's SQLite, with a stream record created. */
function withStore<R>(fn: (store: SqlEventStore, sql: SqlStorage) => R): Promise<R> {
  return runInDurableObject(freshObject(), (_instance, state) => {
    const store = new SqlEventStore(state.storage, NEW_RECORD.streamId);
    store.create(NEW_RECORD);
    return fn(store, state.storage.sql);
  });
}

/** UTF-8 bytes of the largest stored row piece, as SQLite counts them. */
function largestRow(sql: SqlStorage): number {
  return sql.exec<{ n: number }>("SELECT MAX(LENGTH(CAST(events AS BLOB))) AS n FROM event_batch").one().n;
}

// What the contract cannot see: the row pieces themselves, as SQLite stores and measures them.
describe("SqlEventStore rows", () => {
  it("fills a row piece to exactly ROW_TEXT_BYTES as SQLite counts bytes, never more", async () => {
    // The stored text is the batch's JSON array: `["` + event + `"]`, 4 bytes around an ASCII event.
    const exact = "x".repeat(ROW_TEXT_BYTES - 4);
    const over = "y".repeat(ROW_TEXT_BYTES - 3);
    const got = await withStore((store, sql) => {
      store.appendBatch(1, [exact], exact.length);
      const bytesExact = largestRow(sql);
      store.appendBatch(2, [over], over.length);
      return { bytesExact, largest: largestRow(sql) };
    });
    expect(got.bytesExact).toBe(ROW_TEXT_BYTES);
    expect(got.largest).toBe(ROW_TEXT_BYTES);
  });

  it("keeps every piece of a batch cut at a multi-byte character within ROW_TEXT_BYTES", async () => {
    // The bound falls 1, 2 or 3 bytes into a 2-, 3- or 4-byte character (the last one a surrogate pair).
    const events: string[] = [];
    for (const ch of ["é", "€", "😀"]) {
      for (let shift = 1; shift <= 3; shift++) {
        events.push("a".repeat(ROW_TEXT_BYTES - 2 - shift) + ch.repeat(1000));
      }
    }
    const got = await withStore((store, sql) => {
      for (const [i, e] of events.entries()) store.appendBatch(i + 1, [e], e.length);
      return {
        largest: largestRow(sql),
        parts: sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM event_batch WHERE part = 1").one().n,
      };
    });
    expect(got.largest).toBeLessThanOrEqual(ROW_TEXT_BYTES);
    expect(got.parts).toBe(events.length);
  });

  it("writes a batch all or nothing: a failed part leaves no row and no counter behind", async () => {
    const big = "z".repeat(2 * ROW_TEXT_BYTES);
    const got = await withStore((store, sql) => {
      store.appendBatch(1, ["a"], 1);
      // A row already in the way of the batch's second part makes that INSERT fail after the first one.
      sql.exec(
        "INSERT INTO event_batch (stream_id, first_seq, part, last_seq, events) VALUES (?, 2, 1, 99, '[]')",
        NEW_RECORD.streamId,
      );
      let threw = false;
      try {
        store.appendBatch(2, [big], big.length);
      } catch {
        threw = true;
      }
      const parts = sql
        .exec<{ n: number }>("SELECT COUNT(*) AS n FROM event_batch WHERE first_seq = 2")
        .one().n;
      return { threw, parts, rec: store.record() };
    });
    expect(got.threw).toBe(true);
    expect(got.parts).toBe(1); // only the row planted in the way
    expect(got.rec?.eventCount).toBe(1);
    expect(got.rec?.byteCount).toBe(1);
  });
});

/** An SSE event text as the session stores it: content, then its `id:` line. */
function sse(seq: number, content: string): string {
  return `data: ${JSON.stringify({ choices: [{ delta: { content } }] })}\nid: ${seq}\n\n`;
}

/** The columns of the stream tables (name, type, not null, default, position in the key), then their indexes. */
function layout(sql: SqlStorage): unknown[] {
  const tables = ["stream", "event_batch"];
  const columns = tables.flatMap((t) =>
    sql
      .exec(`PRAGMA table_info(${t})`)
      .toArray()
      .map((c) => ({ table: t, ...c })),
  );
  const indexes = tables.flatMap((t) =>
    sql
      .exec<{ name: string }>(`PRAGMA index_list(${t})`)
      .toArray()
      .map((i) => ({
        table: t,
        index: i.name,
        columns: sql
          .exec<{ name: string }>(`PRAGMA index_info(${i.name})`)
          .toArray()
          .map((c) => c.name),
      })),
  );
  return [...columns, ...indexes];
}

/** Puts an object's tables back to exactly what version 1 deployed (the object migrated itself on start). */
function toVersion1(sql: SqlStorage): void {
  sql.exec("DROP TABLE event_batch; DROP TABLE stream; DROP TABLE schema_version;");
  sql.exec(`CREATE TABLE schema_version (version INTEGER NOT NULL);
    INSERT INTO schema_version (version) VALUES (1);
    CREATE TABLE stream (
      id INTEGER PRIMARY KEY CHECK (id = 1), stream_id TEXT NOT NULL, state TEXT NOT NULL, detail TEXT,
      model TEXT NOT NULL, provider TEXT NOT NULL, route TEXT NOT NULL, format TEXT NOT NULL,
      owner TEXT NOT NULL, created_at INTEGER NOT NULL, finished_at INTEGER,
      event_count INTEGER NOT NULL DEFAULT 0, byte_count INTEGER NOT NULL DEFAULT 0);
    CREATE TABLE event_batch (first_seq INTEGER PRIMARY KEY, last_seq INTEGER NOT NULL, events TEXT NOT NULL);`);
}

describe("schema migrations 2 (batches spanning rows), 3 (attempts) and 4 (many streams per object)", () => {
  it("gives a new object the same layout as an object migrated from version 1", async () => {
    const fresh = await runInDurableObject(freshObject(), (_instance, state) => layout(state.storage.sql));
    const migrated = await runInDurableObject(freshObject(), (_instance, state) => {
      toVersion1(state.storage.sql);
      migrate(state.storage.sql);
      return layout(state.storage.sql);
    });
    expect(fresh).toEqual(migrated);
    expect(fresh).toContainEqual(expect.objectContaining({ table: "event_batch", name: "part", pk: 3 }));
    expect(fresh).toContainEqual(expect.objectContaining({ table: "stream", name: "stream_id", pk: 1 }));
    // Migration 5: the host's alarm reads live and expired streams through an index.
    expect(fresh).toContainEqual({
      table: "stream",
      index: "stream_by_state",
      columns: ["state", "finished_at"],
    });
  });

  it("keeps rows written by the first layout readable, and new batches append after them", async () => {
    const old = [sse(1, "a"), sse(2, "b"), sse(3, "c")];
    const got = await runInDurableObject(freshObject(), (_instance, state) => {
      const sql = state.storage.sql;
      toVersion1(sql);
      sql.exec(
        `INSERT INTO stream (id, stream_id, state, model, provider, route, format, owner, created_at, event_count)
         VALUES (1, 's', 'streaming', 'm', 'p', 'native', 'openai-chat', 'anonymous', 0, 3)`,
      );
      sql.exec("INSERT INTO event_batch VALUES (1, 2, ?)", JSON.stringify(old.slice(0, 2)));
      sql.exec("INSERT INTO event_batch VALUES (3, 3, ?)", JSON.stringify(old.slice(2)));
      migrate(sql);
      const store = new SqlEventStore(state.storage, "s");
      const big = "é".repeat(ROW_TEXT_BYTES);
      store.appendBatch(4, [big], big.length);
      return {
        version: sql.exec<{ version: number }>("SELECT version FROM schema_version").one().version,
        parts: sql.exec<{ part: number }>("SELECT part FROM event_batch ORDER BY first_seq, part").toArray(),
        fromOld: store.readAfter(1),
        record: store.record(),
        all: store.readAfter(0),
        big,
      };
    });
    expect(got.version).toBe(5);
    // Migration 3: a stream stored before attempts were recorded lists none, and did not hedge.
    expect(got.record).toMatchObject({ streamId: "s", eventCount: 4, attempts: [], hedged: false });
    expect(got.parts.map((r) => r.part)).toEqual([0, 0, 0, 1, 2]);
    expect(got.fromOld.slice(0, 2)).toEqual(old.slice(1));
    expect(got.all).toEqual([...old, got.big]);
  });
});

// Issue 17: one object hosts many streams; each store sees only its own stream's rows.
describe("SqlEventStore streams sharing one object", () => {
  it("keeps each stream's record, events, counters and rows apart, and deletes one alone", async () => {
    const got = await runInDurableObject(freshObject(), async (_instance, state) => {
      const a = new SqlEventStore(state.storage, "dfw-1.aaaaaaaaaaaaaaaaaaaaaa");
      const b = new SqlEventStore(state.storage, "dfw-1.bbbbbbbbbbbbbbbbbbbbbb");
      a.create({ ...NEW_RECORD, streamId: "dfw-1.aaaaaaaaaaaaaaaaaaaaaa" });
      b.create({ ...NEW_RECORD, streamId: "dfw-1.bbbbbbbbbbbbbbbbbbbbbb", owner: "other" });
      a.appendBatch(1, [sse(1, "a1"), sse(2, "a2")], 10);
      b.appendBatch(1, [sse(1, "b1")], 5);
      a.appendBatch(3, [sse(3, "a3")], 5);
      const before = {
        a: a.readAfter(0),
        b: b.readAfter(0),
        counts: [
          a.record()?.eventCount,
          b.record()?.eventCount,
          a.record()?.byteCount,
          b.record()?.byteCount,
        ],
        rows: [a.rowCount(), b.rowCount()],
        owners: [a.record()?.owner, b.record()?.owner],
      };
      await a.deleteAll();
      return { before, afterA: a.record(), afterB: b.readAfter(0) };
    });
    expect(got.before.a).toEqual([sse(1, "a1"), sse(2, "a2"), sse(3, "a3")]);
    expect(got.before.b).toEqual([sse(1, "b1")]);
    expect(got.before.counts).toEqual([3, 1, 15, 5]);
    expect(got.before.rows).toEqual([2, 1]);
    expect(got.before.owners).toEqual([NEW_RECORD.owner, "other"]);
    expect(got.afterA).toBeUndefined();
    expect(got.afterB).toEqual([sse(1, "b1")]);
  });

  it("refuses a record created in another stream's store", async () => {
    const thrown = await runInDurableObject(freshObject(), (_instance, state) => {
      try {
        new SqlEventStore(state.storage, "dfw-1.aaaaaaaaaaaaaaaaaaaaaa").create(NEW_RECORD);
        return undefined;
      } catch (err) {
        return String(err);
      }
    });
    expect(thrown).toMatch(/its own store/);
  });
});

// Issue 17: a host writes all of its streams' waiting batches in one transaction per tick.
describe("sqlBatchWriter", () => {
  const idOf = (i: number) => `dfw-1.${String(i).padStart(22, "s")}`;

  it("stores 25 streams' batches in one call (more rows than one statement binds), each with its counters", async () => {
    const got = await runInDurableObject(freshObject(), (_instance, state) => {
      const stores = Array.from({ length: 25 }, (_, i) => new SqlEventStore(state.storage, idOf(i)));
      for (const s of stores) s.create({ ...NEW_RECORD, streamId: s.streamId });
      sqlBatchWriter(state.storage).appendBatches(
        stores.map((s, i) => ({
          streamId: s.streamId,
          firstSeq: 1,
          events: [sse(1, `s${i}a`), sse(2, `s${i}b`)],
          bytes: 10 + i,
        })),
      );
      return stores.map((s) => ({ events: s.readAfter(0), rec: s.record(), rows: s.rowCount() }));
    });
    for (const [i, s] of got.entries()) {
      expect(s.events).toEqual([sse(1, `s${i}a`), sse(2, `s${i}b`)]);
      expect([s.rec?.eventCount, s.rec?.byteCount, s.rows]).toEqual([2, 10 + i, 1]);
    }
  });

  it("writes all or nothing: one row in the way leaves no stream's batch and no counter behind", async () => {
    const got = await runInDurableObject(freshObject(), (_instance, state) => {
      const a = new SqlEventStore(state.storage, idOf(1));
      const b = new SqlEventStore(state.storage, idOf(2));
      a.create({ ...NEW_RECORD, streamId: a.streamId });
      b.create({ ...NEW_RECORD, streamId: b.streamId });
      // A row already where b's batch goes: that INSERT fails after a's was made.
      state.storage.sql.exec(
        "INSERT INTO event_batch (stream_id, first_seq, part, last_seq, events) VALUES (?, 1, 0, 1, '[]')",
        b.streamId,
      );
      let threw = false;
      try {
        sqlBatchWriter(state.storage).appendBatches([
          { streamId: a.streamId, firstSeq: 1, events: [sse(1, "a")], bytes: 5 },
          { streamId: b.streamId, firstSeq: 1, events: [sse(1, "b")], bytes: 5 },
        ]);
      } catch {
        threw = true;
      }
      return { threw, a: a.readAfter(0), aCount: a.record()?.eventCount, bCount: b.record()?.eventCount };
    });
    expect(got).toEqual({ threw: true, a: [], aCount: 0, bCount: 0 });
  });

  it("cuts a big batch into row pieces as a single stream's write does", async () => {
    const big = "é".repeat(ROW_TEXT_BYTES);
    const got = await runInDurableObject(freshObject(), (_instance, state) => {
      const s = new SqlEventStore(state.storage, idOf(3));
      s.create({ ...NEW_RECORD, streamId: s.streamId });
      sqlBatchWriter(state.storage).appendBatches([
        { streamId: s.streamId, firstSeq: 1, events: [big, sse(2, "after")], bytes: 1 },
      ]);
      return { events: s.readAfter(0), rows: s.rowCount(), largest: largestRow(state.storage.sql) };
    });
    expect(got.events).toEqual([big, sse(2, "after")]);
    expect(got.rows).toBe(3);
    expect(got.largest).toBeLessThanOrEqual(ROW_TEXT_BYTES);
  });
});
