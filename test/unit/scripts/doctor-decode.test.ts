import zlib from "node:zlib";
import { describe, expect, it } from "vitest";
import { bodyDecoder } from "../../../scripts/doctor/decode.ts";
import { ProbeRecorder } from "../../../scripts/doctor/recorder.ts";
import type { ProbeSpec } from "../../../scripts/doctor/types.ts";

const SPEC: ProbeSpec = {
  name: "compressed",
  acceptEncoding: "gzip, deflate, br",
  events: 3,
  intervalMs: 100,
  payloadBytes: 0,
  pauseAtEvent: 0,
  pauseMs: 0,
};

function event(seq: number, id: number): string {
  const chunk = {
    object: "chat.completion.chunk",
    choices: [{ index: 0, delta: { content: " tick" }, finish_reason: null }],
    probe: { seq, sentAt: 1_764_612_345_000 + seq * 100 },
  };
  return `data: ${JSON.stringify(chunk)}\nid: ${id}\n\n`;
}

const EVENTS = [event(1, 1), event(2, 2), event(3, 3), "data: [DONE]\nid: 4\n\n", ": timings {}\nid: 5\n\n"];

type Compressor = zlib.Gzip | zlib.Deflate | zlib.DeflateRaw | zlib.BrotliCompress;

/** Compresses each piece and flushes after it, as a compressor that streams per event would. */
async function compressPerPiece(create: () => Compressor, pieces: readonly string[]): Promise<Buffer[]> {
  const z = create();
  const out: Buffer[] = [];
  const chunks: Buffer[] = [];
  z.on("data", (d: Buffer) => chunks.push(d));
  for (const piece of pieces) {
    z.write(piece);
    await new Promise<void>((resolve) => z.flush(() => resolve()));
    await new Promise((resolve) => setImmediate(resolve));
    out.push(Buffer.concat(chunks.splice(0)));
  }
  await new Promise<void>((resolve) => {
    z.once("end", () => resolve());
    z.end();
  });
  const tail = Buffer.concat(chunks);
  if (tail.byteLength > 0) out.push(tail);
  return out;
}

const ENCODINGS: readonly [string, () => Compressor][] = [
  ["gzip", () => zlib.createGzip()],
  ["deflate", () => zlib.createDeflate()],
  ["deflate", () => zlib.createDeflateRaw()],
  ["br", () => zlib.createBrotliCompress()],
];

describe("the doctor's decoders", () => {
  it.each(ENCODINGS)(
    "recover each %s-compressed, per-event-flushed piece on its own",
    async (encoding, create) => {
      const pieces = await compressPerPiece(create, EVENTS);
      const decoder = bodyDecoder(encoding);
      expect(decoder).toBeDefined();
      if (decoder === undefined) return;
      const text: string[] = [];
      for (const piece of pieces) text.push(Buffer.from(await decoder.push(piece)).toString());
      text.push(Buffer.from(await decoder.finish()).toString());
      // Every event came out of the piece that carried it: the timing of compressed bytes survives.
      expect(text.slice(0, EVENTS.length)).toEqual(EVENTS);
      expect(text.join("")).toBe(EVENTS.join(""));
    },
  );

  it("passes identity bodies through and refuses encodings it cannot decode", async () => {
    const identity = bodyDecoder("");
    expect(await identity?.push(new TextEncoder().encode("x"))).toEqual(new TextEncoder().encode("x"));
    expect(bodyDecoder("zstd-but-not-really")).toBeUndefined();
  });

  it("rejects a corrupt body instead of hanging", async () => {
    const decoder = bodyDecoder("gzip");
    await expect(decoder?.push(new TextEncoder().encode("this is not gzip at all"))).rejects.toThrow();
  });
});

describe("the doctor's recorder", () => {
  it("stamps each probe event with the arrival of the bytes that completed it", () => {
    const r = new ProbeRecorder(SPEC);
    r.response(10, 200, "1.1", { "content-type": "text/event-stream" });
    const enc = new TextEncoder();
    const all = enc.encode(EVENTS.join(""));
    // Split inside the first event and inside a CRLF-free line: the event counts when it is complete.
    r.decoded(20, all.slice(0, 40));
    r.decoded(30, all.slice(40, EVENTS[0]?.length));
    r.decoded(40, all.slice(EVENTS[0]?.length));
    r.ended("complete", 45);
    const rec = r.record();
    expect(rec.events.map((e) => [e.seq, e.atMs])).toEqual([
      [1, 30],
      [2, 40],
      [3, 40],
    ]);
    expect(rec.doneMs).toBe(40);
    // The gateway's `: timings` comment is not a keep-alive.
    expect(rec.keepAlives).toEqual([]);
    expect(rec.end).toEqual({ kind: "complete", atMs: 45 });
  });

  it("counts keep-alive comments, reads CRLF streams, ignores replayed events and keeps in-band errors", () => {
    const r = new ProbeRecorder(SPEC);
    const enc = new TextEncoder();
    const crlf = (s: string) => s.replace(/\n/g, "\r\n");
    r.decoded(5, enc.encode(crlf(`${event(1, 1)}: keep-alive\n\n`)));
    r.decoded(9, enc.encode(crlf(`${event(1, 1)}${event(2, 2)}`)));
    r.decoded(
      12,
      enc.encode(`data: {"error":{"message":"upstream went away","code":"upstream_interrupted"}}\n\n`),
    );
    const rec = r.record();
    expect(rec.events.map((e) => e.seq)).toEqual([1, 2]);
    expect(rec.keepAlives).toEqual([5]);
    expect(rec.inBandError).toBe("upstream went away");
    expect(rec.doneMs).toBeUndefined();
  });
});
