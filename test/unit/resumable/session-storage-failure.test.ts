import { afterEach, describe, expect, it, vi } from "vitest";
import type { StreamOutcome } from "../../../src/protocol.ts";
import type { EventStore, StreamRecord } from "../../../src/resumable/event-store.ts";
import { FLUSH_BYTES, FLUSH_INTERVAL_MS, StreamSession } from "../../../src/resumable/session.ts";
import { SseDecoder } from "../../../src/sse/decoder.ts";
import type { SseEvent } from "../../../src/sse/types.ts";
import { FORMATS } from "../../../src/upstream/registry.ts";

/** An in-memory store whose writes fail when `fails` says so (storage full, an oversized row, a reset). */
class FlakyStore implements EventStore {
  readonly streamId = "flaky";
  readonly batches: { firstSeq: number; events: readonly string[] }[] = [];
  finished: { state: StreamOutcome; detail: string | null } | undefined;
  constructor(readonly fails: (firstSeq: number, events: readonly string[]) => boolean) {}
  create(_record: StreamRecord): void {}
  record(): StreamRecord | undefined {
    return undefined;
  }
  appendBatch(firstSeq: number, events: readonly string[]): void {
    if (this.fails(firstSeq, events)) throw new Error("SQLITE_TOOBIG: string or blob too big");
    this.batches.push({ firstSeq, events });
  }
  readAfter(after: number): string[] {
    return this.batches.flatMap((b) => b.events.slice(Math.max(0, after - b.firstSeq + 1)));
  }
  finish(state: StreamOutcome, detail: string | null): void {
    this.finished = { state, detail };
  }
  rowCount(): number {
    return this.batches.length;
  }
  async deleteAll(): Promise<void> {}
}

function event(text: string): SseEvent {
  const [ev] = new SseDecoder().push(
    `data: ${JSON.stringify({ choices: [{ delta: { content: text } }] })}\n\n`,
  );
  if (ev === undefined) throw new Error("no event");
  return ev;
}

function session(store: EventStore) {
  const outcomes: StreamOutcome[] = [];
  const aborts: string[] = [];
  const s = new StreamSession(
    store,
    FORMATS["openai-chat"],
    { maxEvents: 1000, maxBytes: 1 << 30 },
    () => 0,
    (o) => outcomes.push(o),
  );
  s.abortUpstream = (reason) => aborts.push(reason);
  return { s, outcomes, aborts };
}

/** Everything a reader receives until the stream closes (rejects if it errors instead). */
async function drain(body: ReadableStream<Uint8Array>): Promise<string> {
  return new Response(body).text();
}

const STORAGE_ERROR =
  /^data: \{"error":\{"message":"the gateway could not store this answer[^"]*","type":"server_error","param":null,"code":"internal_error"\}\}\nid: (\d+)\n\n$/;

function frames(text: string): string[] {
  return text.match(/[\s\S]*?\n\n/g) ?? [];
}

afterEach(() => {
  vi.useRealTimers();
});

describe("a session whose storage write fails", () => {
  it("tells live readers in band and closes them when a size-triggered write fails", async () => {
    const big = "x".repeat(FLUSH_BYTES);
    const store = new FlakyStore((_first, events) => events.some((e) => e.length > FLUSH_BYTES));
    const { s, outcomes, aborts } = session(store);
    const body = drain(s.reader(0));
    s.append(event("a"));
    expect(() => s.append(event(big))).not.toThrow();
    s.append(event("ignored after the end"));
    const got = frames(await body);
    expect(got).toHaveLength(3);
    expect(got[1]).toContain(big);
    expect(got[2]).toMatch(STORAGE_ERROR);
    expect(s.live).toBe(false);
    expect(outcomes).toEqual(["interrupted"]);
    expect(aborts).toEqual(["internal_error"]);
    expect(store.finished?.state).toBe("interrupted");
  });

  it("stores an error after the last stored batch, so a reader served from storage is told too", () => {
    const store = new FlakyStore((_first, events) => events.some((e) => e.includes('"content":"b"')));
    const { s } = session(store);
    s.append(event("a"));
    s.flush();
    s.append(event("b"));
    s.flush();
    const stored = store.readAfter(0);
    expect(stored).toHaveLength(2);
    expect(stored[0]).toContain('"content":"a"');
    // Numbered right after the last stored event, as a `lost` error is after a restart.
    expect(STORAGE_ERROR.exec(stored[1] ?? "")?.[1]).toBe("2");
    expect(s.live).toBe(false);
  });

  it("ends the stream when the timer's write fails, instead of throwing where nothing catches it", async () => {
    vi.useFakeTimers();
    const store = new FlakyStore(() => true);
    const { s, outcomes } = session(store);
    const body = drain(s.reader(0));
    s.append(event("a"));
    expect(() => vi.advanceTimersByTime(FLUSH_INTERVAL_MS)).not.toThrow();
    const got = frames(await body);
    expect(got[1]).toMatch(STORAGE_ERROR);
    expect(outcomes).toEqual(["interrupted"]);
  });

  it("still tells readers and closes them when end()'s own last write fails", async () => {
    const store = new FlakyStore(() => true);
    const { s, outcomes } = session(store);
    const body = drain(s.reader(0));
    s.append(event("a"));
    expect(() => s.end("complete")).not.toThrow();
    const got = frames(await body);
    expect(got.at(-1)).toMatch(STORAGE_ERROR);
    expect(s.live).toBe(false);
    // An answer that could not be stored whole cannot be replayed whole: it did not complete.
    expect(outcomes).toEqual(["interrupted"]);
    // A reader attaching later (same instance) gets the same ending.
    expect(frames(await drain(s.reader(0))).at(-1)).toMatch(STORAGE_ERROR);
  });

  it("keeps writing batches normally while storage works", () => {
    const store = new FlakyStore(() => false);
    const { s } = session(store);
    for (let i = 0; i < 100; i++) s.append(event(`t${i}`));
    expect(s.flush()).toBe(true);
    expect(store.rowCount()).toBe(1);
    expect(store.readAfter(0)).toHaveLength(100);
  });
});
