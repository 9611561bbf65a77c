import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SseByteDecoder } from "../../../src/sse/byte-decoder.ts";
import { SseDecoder } from "../../../src/sse/decoder.ts";
import type { SseEvent } from "../../../src/sse/types.ts";
import { decodeAll, everyBoundary, oneByteChunks, splitAt } from "../../support/fixtures.ts";

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
const BOM = [0xef, 0xbb, 0xbf];

function withBom(text: string): Uint8Array {
  return new Uint8Array([...BOM, ...utf8(text)]);
}

describe("SseByteDecoder (the source's bytes-to-events step)", () => {
  it("decodes bytes into events", async () => {
    const events = await decodeAll([utf8("event: a\ndata: 1\n\ndata: 2\n\n")]);
    expect(events.map((ev) => [ev.event, ev.data])).toEqual([
      ["a", "1"],
      [undefined, "2"],
    ]);
  });

  it("drops a leading BOM, even when it is split across reads", async () => {
    const bytes = withBom("data: a\n\n");
    for (const chunks of [[bytes], oneByteChunks(bytes), splitAt(bytes, [1]), splitAt(bytes, [2])]) {
      const events = await decodeAll(chunks);
      expect(events.map((ev) => ev.raw)).toEqual(["data: a\n\n"]);
    }
  });

  it("drops only the first BOM: a second one is part of the text", async () => {
    const events = await decodeAll([withBom("\uFEFFdata: a\n\n")]);
    expect(events[0]?.strayLines).toEqual(["\uFEFFdata: a"]);
  });

  it("joins a multi-byte character split across reads at every byte", async () => {
    const text = "data: °秋😀 é\n\n";
    const bytes = utf8(text);
    for (const chunks of [...everyBoundary(bytes), oneByteChunks(bytes)]) {
      const events = await decodeAll(chunks);
      expect(events.map((ev) => ev.data)).toEqual(["°秋😀 é"]);
    }
  });

  it("turns invalid UTF-8 into U+FFFD instead of failing the stream", async () => {
    const events = await decodeAll([utf8("data: a"), new Uint8Array([0xff, 0xc3]), utf8("\n\n")]);
    expect(events.map((ev) => ev.data)).toEqual(["a\uFFFD\uFFFD"]);
  });

  it("flushes a character truncated at end of stream as U+FFFD in the final event", async () => {
    const events = await decodeAll([utf8("data: a\n\ndata: b"), new Uint8Array([0xe7, 0xa7])]);
    expect(events.map((ev) => [ev.data, ev.terminated])).toEqual([
      ["a", true],
      ["b\uFFFD", false],
    ]);
  });

  it("emits the unterminated final block when the input ends", async () => {
    const events = await decodeAll([utf8("data: a\n\nevent: message_stop\ndata: {}")]);
    expect(events[1]).toMatchObject({ event: "message_stop", terminated: false });
  });

  it("returns each event from the read that completed it, without waiting for more input", () => {
    const decoder = new SseByteDecoder();
    expect(decoder.push(utf8("data: one\n\ndata: tw")).map((ev) => ev.data)).toEqual(["one"]);
    expect(decoder.push(utf8("o\n"))).toEqual([]);
    expect(decoder.push(utf8("\n")).map((ev) => ev.data)).toEqual(["two"]);
    expect(decoder.end()).toEqual([]);
  });

  it("waits for the LF when a read ends between the CR and LF of a CRLF blank line", () => {
    const decoder = new SseByteDecoder();
    expect(decoder.push(utf8("data: a\r\n\r"))).toEqual([]);
    expect(decoder.push(utf8("\n")).map((ev) => ev.raw)).toEqual(["data: a\r\n\r\n"]);
  });

  it("stops at an event over the limit, counted in characters of the decoded text, however it is read", () => {
    // 3 characters, 9 bytes: within a limit of 5 in characters although over it in bytes.
    const bytes = utf8("data: 秋秋秋\n\ndata: 0123456789\n\ndata: after\n\n");
    for (const chunks of [[bytes], oneByteChunks(bytes), ...everyBoundary(bytes)]) {
      const decoder = new SseByteDecoder({ maxEventLength: 12 });
      const events = chunks.flatMap((c) => decoder.push(c));
      events.push(...decoder.end());
      expect(events.map((ev) => ev.data)).toEqual(["秋秋秋"]);
      expect(decoder.error).toEqual({ reason: "event_too_large", length: expect.any(Number), limit: 12 });
    }
  });

  it("gives the same events for random byte chunkings of random text as the text decoder alone", async () => {
    const piece = fc.constantFrom(
      "data: ",
      "event: x",
      ": c",
      "°",
      "秋",
      "😀",
      "é",
      "{",
      "\r",
      "\n",
      "\r\n",
      "\n\n",
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(piece, { maxLength: 40 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        async (parts, cuts) => {
          const text = parts.join("");
          const bytes = utf8(text);
          const events = await decodeAll(
            splitAt(
              bytes,
              cuts.map((c) => c % (bytes.length + 1)),
            ),
          );
          const decoder = new SseDecoder();
          const expected: SseEvent[] = [...decoder.push(text), ...decoder.end()];
          expect(events).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });
});
