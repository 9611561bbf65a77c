import { env, runInDurableObject, SELF } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { streamStub } from "../../src/resumable/stream-stub.ts";
import { until } from "../support/until.ts";

// One unit for bytes: `bytesSent` (the data point), `StreamSession.bytes` and the stored `byte_count`
// are UTF-8 bytes, on direct and resumable streams alike. A stream of multi-byte text tells the units
// apart: counted in UTF-16 characters, every number below would come out smaller.

const GATEWAY = "https://gateway.test";
/**
 * A recorded OpenAI-compatible stream replayed by the scripted upstream (support/outbound.ts): emoji
 * and other multi-byte text, 227 events, [DONE].
 */
const MODEL = "fixture:groq/compound-web-search-emoji-227-events.sse";

interface MetricsLine {
  event: string;
  model: string;
  outcome: string;
  streamId: string;
  bytesSent: number;
}

let lines: MetricsLine[] = [];

beforeEach(() => {
  lines = [];
  vi.spyOn(console, "log").mockImplementation((arg: unknown) => {
    if (typeof arg !== "string" || !arg.startsWith("{")) return;
    const parsed = JSON.parse(arg) as { event?: unknown };
    if (parsed.event === "stream_metrics") lines.push(parsed as MetricsLine);
  });
});

afterEach(() => {
  vi.restoreAllMocks();
});

const utf8 = (text: string): number => new TextEncoder().encode(text).byteLength;

/** Streams MODEL and returns the exact bytes the client received, with the response. */
async function stream(headers: Record<string, string> = {}): Promise<{ res: Response; bytes: Uint8Array }> {
  const res = await SELF.fetch(`${GATEWAY}/openai/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ model: MODEL, stream: true, messages: [{ role: "user", content: "x" }] }),
  });
  return { res, bytes: new Uint8Array(await res.arrayBuffer()) };
}

/** The data point of the stream `streamId` ("" for the direct one). */
function lineOf(streamId: string): Promise<MetricsLine> {
  return until(`the data point of stream "${streamId}"`, () =>
    lines.find((l) => l.model === `openai/${MODEL}` && l.streamId === streamId),
  );
}

/** The text's blocks, each with its blank line (the client's SSE events and comments, as sent). */
function blocks(text: string): string[] {
  return text.split(/(?<=\n\n)/);
}

describe("bytes are UTF-8 bytes everywhere", () => {
  it("counts a direct stream's bytesSent as the bytes its client received before the timings comment", async () => {
    const { bytes } = await stream({ "x-resumable": "false" });
    const text = new TextDecoder().decode(bytes);
    const trailer = blocks(text).at(-1) ?? "";
    expect(trailer).toMatch(/^: timings /);
    // Multi-byte text: bytes and characters differ, so only a count in bytes can pass.
    expect(bytes.byteLength).toBeGreaterThan(text.length);
    const line = await lineOf("");
    expect(line.outcome).toBe("complete");
    expect(line.bytesSent).toBe(bytes.byteLength - utf8(trailer));
  });

  it("counts a resumable stream's bytesSent, session bytes and byte_count in the same bytes its client received", async () => {
    const { res, bytes } = await stream();
    const id = res.headers.get("x-stream-id") ?? "";
    const text = new TextDecoder().decode(bytes);
    // The numbered events, the numbered timings comment last (a resume would start with `retry:`).
    const events = blocks(text);
    expect(bytes.byteLength).toBeGreaterThan(text.length);
    const trailer = events.at(-1) ?? "";
    expect(trailer).toMatch(/^: timings .*\nid: \d+\n\n$/);
    const line = await lineOf(id);
    expect(line.outcome).toBe("complete");
    // bytesSent: the answer's events as this client received them, `id:` lines included.
    expect(line.bytesSent).toBe(utf8(events.slice(0, -1).join("")));
    // byte_count: every stored event, the timings comment too (replays end with it).
    if (env.STREAMS === undefined) throw new Error("STREAMS is not bound");
    const stored = await runInDurableObject(
      streamStub(env.STREAMS, id),
      (_o, state) =>
        state.storage.sql
          .exec<{ b: number }>("SELECT byte_count AS b FROM stream WHERE stream_id = ?", id)
          .toArray()[0]?.b,
    );
    expect(stored).toBe(utf8(events.join("")));
  });

  it("gives a direct and a resumable stream of the same answer the same bytesSent but for the resumable `id:` lines", async () => {
    const direct = await stream({ "x-resumable": "false" });
    const resumable = await stream();
    const id = resumable.res.headers.get("x-stream-id") ?? "";
    const directEvents = blocks(new TextDecoder().decode(direct.bytes)).slice(0, -1);
    const numbered = blocks(new TextDecoder().decode(resumable.bytes)).slice(0, -1);
    // The same events, each numbered on the resumable stream: the one difference is its id lines.
    expect(numbered.map((b) => b.replace(/id: \d+\n\n$/, "\n"))).toEqual(directEvents);
    const idLines = numbered
      .map((b) => /id: \d+\n\n$/.exec(b)?.[0].length ?? 0)
      .reduce((a, n) => a + n - 1, 0);
    const [d, r] = [await lineOf(""), await lineOf(id)];
    expect(r.bytesSent - d.bytesSent).toBe(idLines);
    expect(d.bytesSent).toBe(utf8(directEvents.join("")));
  });
});
