import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ERROR_CODE, type StreamOutcome } from "../../../src/protocol.ts";
import type { PendingBatch } from "../../../src/resumable/event-store.ts";
import { MemoryEventStore } from "../../../src/resumable/memory-event-store.ts";
import {
  FLUSH_BYTES,
  FLUSH_INTERVAL_MS,
  FlushClock,
  type StreamLimits,
  StreamSession,
} from "../../../src/resumable/session.ts";
import { SseDecoder } from "../../../src/sse/decoder.ts";
import type { SseEvent } from "../../../src/sse/types.ts";
import { openAiChatFormat } from "../../../src/upstream/openai-chat/format.ts";
import { NEW_RECORD } from "../../support/event-store-contract.ts";

// Storage failures have their own suite (session-storage-failure.test.ts); this one covers the session
// over a store that works. Time is vitest's fake clock: the flush timer and the session's `now` both
// read it, so no test waits for real time to pass.

const T0 = Date.UTC(2026, 0, 1);
const NO_LIMITS: StreamLimits = { maxEvents: 100_000, maxBytes: 1 << 30 };

/** The one SSE event `text` holds. */
function parse(text: string): SseEvent {
  const decoder = new SseDecoder();
  const [ev] = [...decoder.push(text), ...decoder.end()];
  if (ev === undefined) throw new Error(`no event in ${JSON.stringify(text)}`);
  return ev;
}

/** An OpenAI chunk event carrying `content`, as the pipeline hands it to the session. */
function token(content: string): SseEvent {
  return parse(`data: ${JSON.stringify({ choices: [{ index: 0, delta: { content } }] })}\n\n`);
}

/** `ev` as the session must send and store it: its own bytes, then `id: seq` before the blank line. */
function numbered(ev: SseEvent, seq: number): string {
  return `${ev.raw.slice(0, -1)}id: ${seq}\n\n`;
}

/** The in-band error an OpenAI client gets, numbered. */
function openAiError(code: string, message: string, seq: number): string {
  const body = { error: { message, type: "server_error", param: null, code } };
  return `data: ${JSON.stringify(body)}\nid: ${seq}\n\n`;
}

/** A reader of one session stream: the session enqueues each event (and the prefix) as one chunk. */
class Tap {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #text = new TextDecoder();

  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = stream.getReader();
  }

  /** The next chunk; throws if the stream closed instead. */
  async next(): Promise<string> {
    const { done, value } = await this.#reader.read();
    if (done) throw new Error("the reader was closed");
    return this.#text.decode(value);
  }

  /** The next `n` chunks. */
  async take(n: number): Promise<string[]> {
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(await this.next());
    return out;
  }

  /** Every chunk until the stream closes. */
  async rest(): Promise<string[]> {
    const out: string[] = [];
    for (;;) {
      const { done, value } = await this.#reader.read();
      if (done) return out;
      out.push(this.#text.decode(value));
    }
  }

  /** The client goes away. */
  async cancel(): Promise<void> {
    await this.#reader.cancel();
  }
}

/** A session over `store` (by default one with NEW_RECORD already created in it). */
function setup(limits: StreamLimits = NO_LIMITS, store = withRecord(new MemoryEventStore())) {
  const outcomes: StreamOutcome[] = [];
  const aborts: string[] = [];
  const session = new StreamSession(
    store,
    openAiChatFormat,
    limits,
    () => Date.now(),
    (o) => outcomes.push(o),
  );
  session.abortUpstream = (reason) => aborts.push(reason);
  return { store, session, outcomes, aborts };
}

function withRecord(store: MemoryEventStore): MemoryEventStore {
  store.create(NEW_RECORD);
  return store;
}

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(T0);
});

afterEach(() => {
  vi.useRealTimers();
});

describe("StreamSession numbering", () => {
  it("numbers every event with the next id, from 1, as its last field", async () => {
    const { session } = setup();
    const tap = new Tap(session.reader(0));
    const events = ["a", "b", "c"].map(token);
    for (const ev of events) session.append(ev);
    expect(await tap.take(3)).toEqual(events.map((ev, i) => numbered(ev, i + 1)));
    expect(session.count).toBe(3);
  });

  it("keeps an upstream id line and adds its own after it, so a reader's Last-Event-ID is the gateway's", async () => {
    const { session } = setup();
    const tap = new Tap(session.reader(0));
    session.append(parse("data: x\nid: upstream-7\n\n"));
    const sent = await tap.next();
    expect(sent).toBe("data: x\nid: upstream-7\nid: 1\n\n");
    expect(parse(sent).id).toBe("1");
  });

  it("writes the id line in the event's own line ending", async () => {
    const { session } = setup();
    const tap = new Tap(session.reader(0));
    session.append(parse("data: x\r\n\r\n"));
    expect(await tap.next()).toBe("data: x\r\nid: 1\r\n\r\n");
  });

  it("gives no number to a block of blank lines: a client could not observe it", async () => {
    const { session } = setup();
    const tap = new Tap(session.reader(0));
    session.append(parse("\n\n\n"));
    session.append(token("a"));
    expect(session.count).toBe(1);
    expect(await tap.next()).toBe(numbered(token("a"), 1));
  });
});

describe("StreamSession fan-out", () => {
  it("gives every attached reader the same bytes as each event arrives", async () => {
    const { session } = setup();
    const taps = [new Tap(session.reader(0)), new Tap(session.reader(0)), new Tap(session.reader(0))];
    const events = ["one", "two", "three"].map(token);
    for (const ev of events) session.append(ev);
    const expected = events.map((ev, i) => numbered(ev, i + 1));
    for (const tap of taps) expect(await tap.take(3)).toEqual(expected);
    session.end("complete");
    for (const tap of taps) expect(await tap.rest()).toEqual([]);
  });

  it("keeps the stream and the other readers going when one reader leaves", async () => {
    const { session, aborts } = setup();
    const leaving = new Tap(session.reader(0));
    const staying = new Tap(session.reader(0));
    session.append(token("a"));
    await leaving.cancel();
    session.append(token("b"));
    expect(session.live).toBe(true);
    expect(aborts).toEqual([]);
    expect(await staying.take(2)).toEqual([numbered(token("a"), 1), numbered(token("b"), 2)]);
  });
});

describe("StreamSession readers attaching late", () => {
  it("get the log after their cursor, then follow live: no gap, no duplicate", async () => {
    const { session } = setup();
    const events = ["a", "b", "c", "d", "e", "f"].map(token);
    const sent = events.map((ev, i) => numbered(ev, i + 1));
    for (const ev of events.slice(0, 4)) session.append(ev);
    const late = new Tap(session.reader(2, "retry: 1000\n\n"));
    expect(await late.next()).toBe("retry: 1000\n\n");
    expect(await late.take(2)).toEqual(sent.slice(2, 4));
    for (const ev of events.slice(4)) session.append(ev);
    expect(await late.take(2)).toEqual(sent.slice(4));
    session.end("complete");
    expect(await late.rest()).toEqual([]);
  });

  it("at the last event get only what follows", async () => {
    const { session } = setup();
    session.append(token("a"));
    session.append(token("b"));
    const tap = new Tap(session.reader(2));
    session.append(token("c"));
    session.end("complete");
    expect(await tap.rest()).toEqual([numbered(token("c"), 3)]);
  });

  it("after the end get the whole log and are closed at once", async () => {
    const { session } = setup();
    session.append(token("a"));
    session.append(token("b"));
    session.end("complete");
    expect(await new Tap(session.reader(0)).rest()).toEqual([
      numbered(token("a"), 1),
      numbered(token("b"), 2),
    ]);
    expect(await new Tap(session.reader(1, "p")).rest()).toEqual(["p", numbered(token("b"), 2)]);
  });
});

describe("StreamSession batching", () => {
  it("stores a batch FLUSH_INTERVAL_MS after its first event, as one row, and not before", () => {
    const { session, store } = setup();
    session.append(token("a"));
    vi.advanceTimersByTime(FLUSH_INTERVAL_MS - 20);
    session.append(token("b"));
    // The bound runs from the batch's first event: a later event does not push the write back.
    vi.advanceTimersByTime(19);
    expect(store.rowCount()).toBe(0);
    vi.advanceTimersByTime(1);
    expect(store.rowCount()).toBe(1);
    expect(store.readAfter(0)).toEqual([numbered(token("a"), 1), numbered(token("b"), 2)]);
    expect(store.record()?.eventCount).toBe(2);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("writes one row per burst of tokens", () => {
    const { session, store } = setup();
    for (let burst = 0; burst < 5; burst++) {
      for (let i = 0; i < 20; i++) session.append(token(`b${burst}t${i}`));
      vi.advanceTimersByTime(FLUSH_INTERVAL_MS * 2);
    }
    expect(store.rowCount()).toBe(5);
    expect(store.readAfter(0)).toHaveLength(100);
    expect(store.readAfter(40)[0]).toContain('"b2t0"');
  });

  it("writes a steady stream once per interval, not once per token", () => {
    const { session, store } = setup();
    // A token every 10 ms for five seconds: each 500 ms window holds 50 of them.
    for (let i = 0; i < 500; i++) {
      session.append(token(`t${i}`));
      vi.advanceTimersByTime(10);
    }
    expect(FLUSH_INTERVAL_MS).toBe(500);
    expect(store.rowCount()).toBe(10);
    expect(store.readAfter(0)).toHaveLength(500);
  });

  it("writes at once when a batch reaches FLUSH_BYTES, without waiting for the timer", () => {
    const { session, store } = setup();
    const quarter = "x".repeat(FLUSH_BYTES / 4);
    for (let i = 0; i < 3; i++) session.append(token(quarter));
    expect(store.rowCount()).toBe(0);
    session.append(token(quarter));
    expect(store.rowCount()).toBe(1);
    expect(store.record()?.eventCount).toBe(4);
    // Nothing is pending any more, so no timer is left either.
    expect(vi.getTimerCount()).toBe(0);
  });

  it("stores exactly what its readers received, with the counts it sent", async () => {
    const { session, store } = setup();
    const tap = new Tap(session.reader(0));
    for (let i = 0; i < 30; i++) {
      session.append(token(`t${i} `));
      vi.advanceTimersByTime(7);
    }
    session.end("complete");
    const sent = await tap.rest();
    expect(store.readAfter(0)).toEqual(sent);
    // ASCII only: characters and UTF-8 bytes agree, whichever unit the session counts in.
    expect(store.record()).toMatchObject({ eventCount: 30, byteCount: sent.join("").length });
  });
});

describe("StreamSession limits", () => {
  it("ends the stream with a stream_limit_exceeded event once it would exceed its event limit", async () => {
    const { session, store, outcomes, aborts } = setup({ maxEvents: 3, maxBytes: 1 << 30 });
    const tap = new Tap(session.reader(0));
    for (const content of ["a", "b", "c", "d", "e"]) session.append(token(content));
    const message = "the stream exceeded the gateway's limit of 3 events";
    expect(await tap.rest()).toEqual([
      numbered(token("a"), 1),
      numbered(token("b"), 2),
      numbered(token("c"), 3),
      openAiError(ERROR_CODE.streamLimitExceeded, message, 4),
    ]);
    expect(session.live).toBe(false);
    expect(outcomes).toEqual(["interrupted"]);
    expect(aborts).toEqual(["stream_limit_exceeded"]);
    expect(store.record()).toMatchObject({
      state: "interrupted",
      detail: `stream_limit_exceeded: ${message}`,
      eventCount: 4,
    });
  });

  it("ends the stream the same way once it would exceed its byte limit", async () => {
    // Two ASCII events fit with room to spare whatever is counted (raw, id lines, bytes), a third does not.
    const sized = (c: string) => token(c.repeat(100));
    const maxBytes = 2 * numbered(sized("a"), 1).length + 10;
    const { session, store, outcomes } = setup({ maxEvents: 1000, maxBytes });
    const tap = new Tap(session.reader(0));
    for (const c of ["a", "b", "c"]) session.append(sized(c));
    const message = `the stream exceeded the gateway's limit of ${maxBytes} bytes`;
    expect(await tap.rest()).toEqual([
      numbered(sized("a"), 1),
      numbered(sized("b"), 2),
      openAiError(ERROR_CODE.streamLimitExceeded, message, 3),
    ]);
    expect(outcomes).toEqual(["interrupted"]);
    expect(store.record()?.detail).toBe(`stream_limit_exceeded: ${message}`);
  });
});

describe("StreamSession end", () => {
  it("ends exactly once: a second end and later appends change nothing", async () => {
    const { session, store, outcomes, aborts } = setup();
    const tap = new Tap(session.reader(0));
    session.append(token("a"));
    vi.advanceTimersByTime(1234);
    session.end("complete");
    vi.advanceTimersByTime(1000);
    session.end("cancelled", { code: ERROR_CODE.streamCancelled, message: "too late" });
    session.append(token("b"));
    expect(await tap.rest()).toEqual([numbered(token("a"), 1)]);
    expect(outcomes).toEqual(["complete"]);
    expect(aborts).toEqual([]);
    expect(session.count).toBe(1);
    expect(store.record()).toMatchObject({
      state: "complete",
      detail: null,
      finishedAt: T0 + 1234,
      eventCount: 1,
    });
    expect(vi.getTimerCount()).toBe(0);
  });

  it("writes the trailer, computed at the end, as the last numbered event", async () => {
    const { session, store } = setup();
    let calls = 0;
    session.trailer = () => {
      calls++;
      return `: timings {"at":${Date.now() - T0}}\n\n`;
    };
    const tap = new Tap(session.reader(0));
    session.append(token("a"));
    vi.advanceTimersByTime(300);
    session.end("complete");
    session.end("complete");
    expect(await tap.rest()).toEqual([numbered(token("a"), 1), ': timings {"at":300}\nid: 2\n\n']);
    expect(calls).toBe(1);
    expect(store.readAfter(1)).toEqual([': timings {"at":300}\nid: 2\n\n']);
  });

  it("on cancel, tells readers in the format's own error, stops the upstream and says why", async () => {
    const { session, store, outcomes, aborts } = setup();
    const tap = new Tap(session.reader(0));
    session.append(token("a"));
    const error = {
      code: ERROR_CODE.streamCancelled,
      message: "the stream was cancelled at the client's request",
    };
    session.end("cancelled", error);
    expect(await tap.rest()).toEqual([numbered(token("a"), 1), openAiError(error.code, error.message, 2)]);
    expect(outcomes).toEqual(["cancelled"]);
    expect(aborts).toEqual(["cancelled"]);
    expect(store.record()).toMatchObject({
      state: "cancelled",
      detail: "stream_cancelled: the stream was cancelled at the client's request",
    });
  });

  const DETAILS: readonly {
    what: string;
    end: (s: StreamSession) => void;
    detail: string | null;
    aborts: string[];
  }[] = [
    { what: "a complete stream has none", end: (s) => s.end("complete"), detail: null, aborts: [] },
    {
      what: "an interruption the pipeline saw gives its own detail, and the upstream has already ended",
      end: (s) =>
        s.end(
          "interrupted",
          undefined,
          "upstream_interrupted: the upstream stream ended before the response was complete",
        ),
      detail: "upstream_interrupted: the upstream stream ended before the response was complete",
      aborts: [],
    },
    {
      what: "an error the session writes is `code: message`, and stops the upstream",
      end: (s) => s.end("interrupted", { code: ERROR_CODE.internal, message: "the gateway failed" }),
      detail: "internal_error: the gateway failed",
      aborts: ["internal_error"],
    },
    {
      what: "an explicit detail wins over the error's own",
      end: (s) => s.end("interrupted", { code: ERROR_CODE.internal, message: "x" }, "explicit: detail"),
      detail: "explicit: detail",
      aborts: ["internal_error"],
    },
  ];

  it.each(DETAILS)("stores the detail: $what", ({ end, detail, aborts: expected }) => {
    const { session, store, aborts } = setup();
    session.append(token("a"));
    vi.advanceTimersByTime(42);
    end(session);
    expect(store.record()?.detail).toBe(detail);
    expect(store.record()?.finishedAt).toBe(T0 + 42);
    expect(aborts).toEqual(expected);
  });
});

describe("StreamSession ending its own stream", () => {
  it("decides the outcome before it stops the upstream, so a pipeline cancel cannot overrule it", () => {
    const order: string[] = [];
    let decided: StreamOutcome | undefined;
    const finished = new StreamSession(
      new MemoryEventStore(),
      openAiChatFormat,
      { maxEvents: 2, maxBytes: 1 << 30 },
      () => Date.now(),
      (o) => {
        decided ??= o;
        order.push(`finish:${o}`);
      },
    );
    // Stopping the upstream cancels the pipeline, whose cancel would call this "cancelled".
    finished.abortUpstream = (reason) => {
      order.push(`abort:${reason}`);
      decided ??= "cancelled";
    };
    for (const t of ["a", "b", "c"]) finished.append(token(t));
    expect(order).toEqual(["finish:interrupted", "abort:stream_limit_exceeded"]);
    expect(decided).toBe("interrupted");
  });
});

// Issue 17: the streams of one object share one flush clock, so their batches are written in one turn.
/** A session on `clock` over `store`, its record created. */
function sessionOnClock(
  clock: FlushClock,
  store: MemoryEventStore,
  onFinish: (outcome: StreamOutcome) => void = () => {},
): StreamSession {
  store.create({ ...NEW_RECORD, streamId: store.streamId });
  return new StreamSession(store, openAiChatFormat, NO_LIMITS, () => Date.now(), onFinish, clock);
}

describe("StreamSession sharing a FlushClock", () => {
  function sessionOn(clock: FlushClock) {
    const store = new MemoryEventStore();
    return { store, session: sessionOnClock(clock, store) };
  }

  it("keeps one timer for all of its streams and writes every waiting batch when it fires", () => {
    const clock = new FlushClock();
    const a = sessionOn(clock);
    const b = sessionOn(clock);
    a.session.append(token("a1"));
    vi.advanceTimersByTime(FLUSH_INTERVAL_MS / 2);
    b.session.append(token("b1"));
    a.session.append(token("a2"));
    expect(vi.getTimerCount()).toBe(1);
    expect([a.store.rowCount(), b.store.rowCount()]).toEqual([0, 0]);
    // Fired FLUSH_INTERVAL_MS after the first waiting event: no batch waits longer than that.
    vi.advanceTimersByTime(FLUSH_INTERVAL_MS / 2);
    expect([a.store.rowCount(), b.store.rowCount()]).toEqual([1, 1]);
    expect(a.store.readAfter(0)).toEqual([numbered(token("a1"), 1), numbered(token("a2"), 2)]);
    expect(b.store.readAfter(0)).toEqual([numbered(token("b1"), 1)]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("keeps its timer for the others when one stream writes by itself, and drops it with the last", () => {
    const clock = new FlushClock();
    const a = sessionOn(clock);
    const b = sessionOn(clock);
    a.session.append(token("a1"));
    b.session.append(token("b1"));
    a.session.end("complete");
    expect(a.store.rowCount()).toBe(1);
    expect(vi.getTimerCount()).toBe(1);
    b.session.end("complete");
    expect(vi.getTimerCount()).toBe(0);
    expect(b.store.readAfter(0)).toEqual([numbered(token("b1"), 1)]);
  });
});

// Issue 17: with a writer, a tick is one write for every stream of the object, and one stream's
// failing batch stays its own.
describe("a FlushClock with a writer", () => {
  /** A writer over the stores it is given, recording each call; it fails while `failing` is set. */
  function writerOver(stores: Map<string, MemoryEventStore>) {
    const calls: string[][] = [];
    const writer = {
      failing: false,
      appendBatches(batches: readonly PendingBatch[]) {
        calls.push(batches.map((b) => b.streamId));
        if (writer.failing) throw new Error("SQLITE_FULL: database or disk is full");
        for (const b of batches) stores.get(b.streamId)?.appendBatch(b.firstSeq, b.events, b.bytes);
      },
    };
    return { writer, calls };
  }

  it("writes every waiting stream's batch in one call per tick", () => {
    const a = new MemoryEventStore("a");
    const b = new MemoryEventStore("b");
    const { writer, calls } = writerOver(
      new Map([
        ["a", a],
        ["b", b],
      ]),
    );
    const clock = new FlushClock(writer);
    const sa = sessionOnClock(clock, a);
    const sb = sessionOnClock(clock, b);
    sa.append(token("a1"));
    sb.append(token("b1"));
    sa.append(token("a2"));
    vi.advanceTimersByTime(FLUSH_INTERVAL_MS);
    expect(calls).toEqual([["a", "b"]]);
    expect(a.readAfter(0)).toEqual([numbered(token("a1"), 1), numbered(token("a2"), 2)]);
    expect(b.readAfter(0)).toEqual([numbered(token("b1"), 1)]);
    // The next batch goes on from where the written one ended.
    sa.append(token("a3"));
    vi.advanceTimersByTime(FLUSH_INTERVAL_MS);
    expect(calls).toEqual([["a", "b"], ["a"]]);
    expect(a.readAfter(2)).toEqual([numbered(token("a3"), 3)]);
    expect(a.record()?.eventCount).toBe(3);
  });

  it("writes each batch alone when the joint write fails: the failing stream ends in band, the other is stored", async () => {
    const good = new MemoryEventStore("good");
    // This stream's own write fails too: its storage is what the joint write stumbled on.
    const bad = new MemoryEventStore("bad");
    bad.appendBatch = () => {
      throw new Error("SQLITE_TOOBIG: string or blob too big");
    };
    const { writer } = writerOver(new Map([["good", good]]));
    writer.failing = true;
    const clock = new FlushClock(writer);
    const sg = sessionOnClock(clock, good);
    const sb = sessionOnClock(clock, bad);
    const badReader = new Tap(sb.reader(0));
    sg.append(token("kept"));
    sb.append(token("lost"));
    vi.advanceTimersByTime(FLUSH_INTERVAL_MS);
    expect(good.readAfter(0)).toEqual([numbered(token("kept"), 1)]);
    expect(sg.live).toBe(true);
    expect(sb.live).toBe(false);
    // Its end joins the write of the streams ending in the next turn, then its reader is closed.
    vi.advanceTimersByTime(1);
    const got = await badReader.rest();
    expect(got[0]).toBe(numbered(token("lost"), 1));
    expect(got[1]).toContain('"code":"internal_error"');
    expect(got[1]).toContain("could not store this answer");
  });
});

// Issue 17: streams of a host end together (a burst started together, a backlog drained at once); one
// write of its own per end, on the one thread, made the worst gaps under load. Ends share a write instead.
describe("ends on a FlushClock with a writer", () => {
  function writerOver(stores: Map<string, MemoryEventStore>) {
    const calls: string[][] = [];
    const writer = {
      failing: new Set<string>(),
      appendBatches(batches: readonly PendingBatch[]) {
        calls.push(batches.map((b) => b.streamId));
        if (batches.some((b) => writer.failing.has(b.streamId))) throw new Error("SQLITE_FULL");
        for (const b of batches) stores.get(b.streamId)?.appendBatch(b.firstSeq, b.events, b.bytes);
      },
    };
    return { writer, calls };
  }

  function three() {
    const stores = new Map(["a", "b", "c"].map((id) => [id, new MemoryEventStore(id)] as const));
    const { writer, calls } = writerOver(stores);
    const clock = new FlushClock(writer);
    const finished: string[] = [];
    const sessions = [...stores.values()].map((store) =>
      sessionOnClock(clock, store, (outcome) => finished.push(`${store.streamId}:${outcome}`)),
    );
    return { stores, sessions, writer, calls, clock, finished };
  }

  it("writes the last batches of the streams ending in one turn together, then closes each", async () => {
    const { stores, sessions, calls, finished } = three();
    const [a, b, c] = sessions;
    if (a === undefined || b === undefined || c === undefined) throw new Error("three sessions");
    const taps = sessions.map((s) => new Tap(s.reader(0)));
    a.append(token("a1"));
    b.append(token("b1"));
    c.append(token("c1"));
    a.end("complete");
    b.end("complete");
    // Ended but not closed: its readers wait for the write, nothing of the end is stored yet.
    expect([a.live, b.live, c.live]).toEqual([false, false, true]);
    expect(stores.get("a")?.record()?.state).toBe("streaming");
    expect(finished).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(calls).toEqual([["a", "b"]]);
    expect(finished).toEqual(["a:complete", "b:complete"]);
    expect(stores.get("a")?.record()).toMatchObject({ state: "complete", eventCount: 1 });
    expect(stores.get("b")?.readAfter(0)).toEqual([numbered(token("b1"), 1)]);
    expect(await taps[0]?.rest()).toEqual([numbered(token("a1"), 1)]);
    expect(await taps[1]?.rest()).toEqual([numbered(token("b1"), 1)]);
    // The stream still going keeps its batch for its own tick.
    expect(stores.get("c")?.rowCount()).toBe(0);
    vi.advanceTimersByTime(FLUSH_INTERVAL_MS);
    expect(calls).toEqual([["a", "b"], ["c"]]);
  });

  it("closes a stream whose events were all written already, with nothing more to write", async () => {
    const { stores, sessions, calls } = three();
    const a = sessions[0];
    if (a === undefined) throw new Error("a session");
    const tap = new Tap(a.reader(0));
    a.append(token("a1"));
    vi.advanceTimersByTime(FLUSH_INTERVAL_MS);
    a.end("complete");
    vi.advanceTimersByTime(1);
    expect(calls).toEqual([["a"]]);
    expect(stores.get("a")?.record()?.state).toBe("complete");
    expect(await tap.rest()).toEqual([numbered(token("a1"), 1)]);
  });

  it("settles at once when asked (a cancel, the alarm), before the next turn", () => {
    const { stores, sessions, clock } = three();
    const a = sessions[0];
    if (a === undefined) throw new Error("a session");
    a.append(token("a1"));
    a.end("cancelled", { code: "stream_cancelled", message: "cancelled" });
    clock.settleEnding();
    expect(stores.get("a")?.record()).toMatchObject({ state: "cancelled", eventCount: 2 });
    expect(vi.getTimerCount()).toBe(0);
  });

  it("when the shared write fails, writes each alone: the one that fails alone ends interrupted, in band", async () => {
    const { stores, sessions, writer, finished } = three();
    const [a, b] = sessions;
    if (a === undefined || b === undefined) throw new Error("two sessions");
    writer.failing.add("b");
    const bad = stores.get("b");
    if (bad === undefined) throw new Error("b's store");
    bad.appendBatch = () => {
      throw new Error("SQLITE_FULL: database or disk is full");
    };
    const tap = new Tap(b.reader(0));
    a.append(token("a1"));
    b.append(token("b1"));
    a.end("complete");
    b.end("complete");
    vi.advanceTimersByTime(1);
    expect(finished).toEqual(["a:complete", "b:interrupted"]);
    expect(stores.get("a")?.record()?.state).toBe("complete");
    expect(bad.record()?.state).toBe("interrupted");
    const got = await tap.rest();
    expect(got[0]).toBe(numbered(token("b1"), 1));
    // The answer never looks complete: the storage error follows its last event.
    expect(got.at(-1)).toContain("could not store this answer");
  });
});

// Issue 17: the record waits until the first bytes are out, so the first byte does not wait for a commit.
describe("StreamSession's deferred record", () => {
  /** A session whose record waits in it, over a store that holds none yet. */
  function deferred(store = new MemoryEventStore()) {
    const made = setup(NO_LIMITS, store);
    made.session.deferRecord(NEW_RECORD);
    return made;
  }

  it("is not written for a reader that has been given nothing yet, however long it waits", async () => {
    const { session, store } = deferred();
    // The client's reader exists before the first event (the object answers before it has any).
    const tap = new Tap(session.reader(0));
    await Promise.resolve();
    vi.advanceTimersByTime(0);
    expect(store.record()).toBeUndefined();
    session.append(token("a"));
    expect(await tap.next()).toBe(numbered(token("a"), 1));
    vi.advanceTimersByTime(0);
    expect(store.record()?.streamId).toBe(NEW_RECORD.streamId);
  });

  it("is written right after a reader took its first bytes, not before", async () => {
    const { session, store } = deferred();
    session.append(token("a"));
    const tap = new Tap(session.reader(0));
    expect(store.record()).toBeUndefined();
    expect(await tap.next()).toBe(numbered(token("a"), 1));
    expect(store.record()).toBeUndefined();
    vi.advanceTimersByTime(0);
    expect(store.record()?.streamId).toBe(NEW_RECORD.streamId);
    // Live events after that are pushed as before.
    session.append(token("b"));
    expect(await tap.next()).toBe(numbered(token("b"), 2));
  });

  it("is written with the first batch when nobody reads, and before the end's counters", () => {
    const { session, store } = deferred();
    session.append(token("a"));
    vi.advanceTimersByTime(FLUSH_INTERVAL_MS);
    expect(store.record()?.eventCount).toBe(1);
    const other = deferred();
    other.session.end("complete");
    expect(other.store.record()?.state).toBe("complete");
  });

  it("is written at once when the host is asked about the stream", () => {
    const { session, store } = deferred();
    expect(session.storeRecord()).toBe(true);
    expect(store.record()?.state).toBe("streaming");
    // Only once: a second call writes nothing more (a second INSERT would fail on its key).
    expect(session.storeRecord()).toBe(true);
  });

  it("ends the stream in band, storing nothing after it, when the record cannot be written", async () => {
    const store = new MemoryEventStore();
    store.create = () => {
      throw new Error("SQLITE_FULL: database or disk is full");
    };
    const { session, outcomes } = deferred(store);
    session.append(token("a"));
    const tap = new Tap(session.reader(0));
    expect(session.storeRecord()).toBe(false);
    expect(session.live).toBe(false);
    // Its end listeners run (the host frees the stream's slot from them), though nothing of it was stored.
    expect(outcomes).toEqual(["interrupted"]);
    const got = await tap.rest();
    expect(got[0]).toBe(numbered(token("a"), 1));
    expect(got[1]).toContain("could not store this answer");
    expect(store.rowCount()).toBe(0);
  });
});
