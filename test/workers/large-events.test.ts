import { env, evictDurableObject, runInDurableObject, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { SqlEventStore } from "../../src/resumable/event-store.ts";
import { StreamSession } from "../../src/resumable/session.ts";
import { newStreamId } from "../../src/resumable/stream-id.ts";
import { streamStub } from "../../src/resumable/stream-stub.ts";
import { SseDecoder } from "../../src/sse/decoder.ts";
import { FORMATS } from "../../src/upstream/registry.ts";

const GATEWAY = "https://gateway.test";
const RETRY = /^retry: \d+\n\n/;
const FIVE_MB = 5 * 1024 * 1024;
/** Durable Object SQLite's documented "maximum string, BLOB or table row size" (2 MB). */
const DOCUMENTED_ROW_LIMIT = 2_000_000;
const encoder = new TextEncoder();

/** The object that holds stream `id` (its stream host). */
function stub(id: string): DurableObjectStub {
  if (env.STREAMS === undefined) throw new Error("STREAMS is not bound");
  return streamStub(env.STREAMS, id);
}

function chunk(content: string): string {
  return `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content } }] })}\n\n`;
}

function events(text: string): string[] {
  return text.match(/[\s\S]*?\n\n/g) ?? [];
}

async function resume(id: string, lastEventId: number): Promise<string> {
  const res = await SELF.fetch(`${GATEWAY}/v1/streams/${id}`, {
    headers: { "last-event-id": String(lastEventId) },
  });
  return (await res.text()).replace(RETRY, "");
}

/**
 * Runs one stream through the real session and store inside its object, as the object does with an
 * upstream (the in-workerd upstream cannot send 5 MB: requests here are capped by MAX_BODY_BYTES).
 */
async function storeStream(id: string, upstream: string): Promise<{ sent: string; largestRow: number }> {
  return runInDurableObject(stub(id), async (_instance, state) => {
    const store = new SqlEventStore(state.storage, id);
    store.create({
      streamId: id,
      state: "streaming",
      detail: null,
      model: "openai/gpt",
      provider: "openai",
      route: "native",
      format: "openai-chat",
      owner: "anonymous",
      createdAt: Date.now(),
      finishedAt: null,
      eventCount: 0,
      byteCount: 0,
      attempts: [],
      hedged: false,
    });
    const session = new StreamSession(
      store,
      FORMATS["openai-chat"],
      { maxEvents: 1000, maxBytes: 32 * 1024 * 1024 },
      Date.now,
      () => {},
    );
    const sent = new Response(session.reader(0)).text();
    const decoder = new SseDecoder();
    for (const ev of [...decoder.push(upstream), ...decoder.end()]) session.append(ev);
    session.end("complete");
    const largestRow = state.storage.sql
      .exec<{ n: number }>(
        "SELECT MAX(LENGTH(CAST(events AS BLOB))) AS n FROM event_batch WHERE stream_id = ?",
        id,
      )
      .one().n;
    return { sent: await sent, largestRow };
  });
}

describe("a 5 MB event in a resumable stream", () => {
  it("is stored in rows under the SQLite limit and resumes around it byte for byte, no gap, no duplicate", async () => {
    const unit = "inline image 🖼️ é€ ";
    const big = unit.repeat(Math.ceil(FIVE_MB / encoder.encode(unit).length));
    const upstream = `${["one ", "two ", big, " three", " four"].map(chunk).join("")}data: [DONE]\n\n`;
    const id = newStreamId();
    const { sent, largestRow } = await storeStream(id, upstream);
    expect(encoder.encode(big).length).toBeGreaterThan(FIVE_MB);
    expect(largestRow).toBeLessThanOrEqual(DOCUMENTED_ROW_LIMIT);
    const all = events(sent);
    expect(all.map((e) => /\nid: (\d+)\n\n$/.exec(e)?.[1])).toEqual(all.map((_, i) => String(i + 1)));
    expect(all[2]).toBe(`${chunk(big).slice(0, -1)}id: 3\n\n`);
    // Evicted, the object holds no session: every resume below is served from the SQLite rows.
    await evictDurableObject(stub(id));
    for (const after of [0, 2, 3, 4]) {
      const rest = await resume(id, after);
      expect({ after, same: rest === all.slice(after).join("") }).toEqual({ after, same: true });
    }
  });
});
