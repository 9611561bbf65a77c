import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { objectNameOf } from "../../src/resumable/stream-id.ts";
import { type LocalGateway, startGateway } from "../support/gateway.ts";
import { MockUpstream, startSse } from "../support/mock-upstream.ts";

const mock = new MockUpstream();
let gateway: LocalGateway;

beforeAll(async () => {
  await mock.start();
  gateway = await startGateway({ OPENAI_BASE_URL: `${mock.baseUrl}/v1`, OPENAI_API_KEY: "sk-e2e" });
});

afterAll(async () => {
  await gateway.dispose();
  await mock.stop();
});

const MIB = 1024 * 1024;
const RETRY = /^retry: \d+\n\n/;

/** Text in 2-, 3- and 4-byte UTF-8 characters (a surrogate pair among them), no digits for the guardrail to hold back. */
const UNIT = "Das Bild zeigt einen Bären am Fluß, 東京の夜景 🐻 — ";

function chunk(content: string): string {
  const body = { id: "c", object: "chat.completion.chunk", choices: [{ index: 0, delta: { content } }] };
  return `data: ${JSON.stringify(body)}\n\n`;
}

/** The stream's events, each ending with its blank line. */
function events(text: string): string[] {
  return text.match(/[\s\S]*?\n\n/g) ?? [];
}

/** The text of every content delta, in order (what an SDK would show). */
function contentOf(text: string): string {
  let out = "";
  for (const ev of events(text)) {
    const data = /^data: (\{.*\})$/m.exec(ev)?.[1];
    if (data === undefined) continue;
    const parsed = JSON.parse(data) as { choices?: { delta?: { content?: string } }[] };
    out += parsed.choices?.[0]?.delta?.content ?? "";
  }
  return out;
}

function resume(id: string, lastEventId: number): Promise<string> {
  return fetch(new URL(`/v1/streams/${id}`, gateway.url), {
    headers: { "last-event-id": String(lastEventId) },
  }).then(async (r) => (await r.text()).replace(RETRY, ""));
}

/** The stream's state once it is no longer `streaming`. */
async function settledState(id: string): Promise<string> {
  for (;;) {
    const res = await fetch(new URL(`/v1/streams/${id}/status`, gateway.url));
    const { state } = (await res.json()) as { state: string };
    if (state !== "streaming") return state;
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("an event bigger than a storage row", () => {
  // 5 MB is over Cloudflare's documented 2 MB row limit. Local workerd allows rows up to 8 MiB, so
  // only the 9 MiB event fails here without parts; test/workers/large-events.test.ts checks row sizes.
  it.each([
    { size: "5 MB", bytes: 5 * MIB },
    { size: "9 MiB", bytes: 9 * MIB },
  ])(
    "streams a $size event, stores it, and resumes around it with no gap and no duplicate",
    async ({ bytes }) => {
      const big = UNIT.repeat(Math.ceil(bytes / Buffer.byteLength(UNIT)));
      const contents = ["before one ", "before two ", big, " after one", " after two"];
      const upstream = Buffer.from(`${contents.map(chunk).join("")}data: [DONE]\n\n`);
      mock.handle(async (_req, res) => {
        startSse(res);
        // A prime-sized write cuts the body inside multi-byte characters, as TCP segments would.
        for (let at = 0; at < upstream.length; at += 65_521) res.write(upstream.subarray(at, at + 65_521));
        res.end();
      });
      const res = await fetch(new URL("/openai/v1/chat/completions", gateway.url), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "gpt", stream: true, messages: [{ role: "user", content: "x" }] }),
      });
      const id = res.headers.get("x-stream-id") ?? "";
      const whole = await res.text();
      const all = events(whole);
      // What the client got is what the provider sent, and every event is numbered 1, 2, 3, ... once.
      expect(Buffer.byteLength(big)).toBeGreaterThan(bytes);
      // Compared as a flag: a failing diff of megabytes would drown the report.
      const received = contentOf(whole);
      expect({ chars: received.length, same: received === contents.join("") }).toEqual({
        chars: contents.join("").length,
        same: true,
      });
      expect(all.map((e) => /\nid: (\d+)\n\n$/.exec(e)?.[1])).toEqual(all.map((_, i) => String(i + 1)));
      const at = all.findIndex((e) => e.includes(big)) + 1; // the big event's sequence number
      expect(at).toBe(3);
      expect(await settledState(id)).toBe("complete");

      // Resuming before, at and after the big event, first from the running host (a finished stream is
      // served from its SQLite rows), then from a fresh instance of it after an eviction.
      for (const phase of ["running", "evicted"]) {
        if (phase === "evicted")
          await gateway.miniflare.unsafeEvictDurableObject("", "StreamObject", { name: objectNameOf(id) });
        for (const after of [0, at - 1, at, at + 1]) {
          const rest = await resume(id, after);
          expect({ phase, after, same: rest === all.slice(after).join("") }).toEqual({
            phase,
            after,
            same: true,
          });
        }
      }
    },
  );
});
