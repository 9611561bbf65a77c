import { describe, expect, it } from "vitest";
import { type SseMessage, SseReader } from "../../../src/client/index.ts";
import { CHAT_FIXTURES, numberEvents, readChatFixture } from "./fixtures.ts";

const encoder = new TextEncoder();

/** Feeds each piece (string as UTF-8, or raw bytes) and ends the stream. */
function read(...pieces: (string | number[])[]): SseMessage[] {
  const reader = new SseReader();
  const messages = pieces.flatMap((piece) =>
    reader.push(typeof piece === "string" ? encoder.encode(piece) : new Uint8Array(piece)),
  );
  return [...messages, ...reader.end()];
}

function readBytes(chunks: Uint8Array[]): SseMessage[] {
  const reader = new SseReader();
  return [...chunks.flatMap((piece) => reader.push(piece)), ...reader.end()];
}

/** One string per message list, for fast comparison across thousands of splits. */
function signature(messages: readonly SseMessage[]): string {
  return messages.map((message) => `${message.id}\u001f${message.event}\u001f${message.data}`).join("\u001e");
}

describe("SseReader", () => {
  it("dispatches data, event and id on a blank line", () => {
    expect(read('event: delta\ndata: {"a":1}\nid: 7\n\n')).toEqual([
      { event: "delta", data: '{"a":1}', id: "7" },
    ]);
  });

  it("accepts LF, CR and CRLF line endings, mixed", () => {
    expect(read("data: a\n\ndata: b\r\rdata: c\r\n\r\ndata: d\r\n\n")).toEqual(
      ["a", "b", "c", "d"].map((data) => ({ event: "message", data, id: undefined })),
    );
  });

  it("treats a CRLF split across chunks as one line ending", () => {
    expect(read("data: a\r", "\n\r", "\n")).toEqual([{ event: "message", data: "a", id: undefined }]);
    expect(read("data: a\r\n\r", "\ndata: b\r", "\n\r\n")).toEqual([
      { event: "message", data: "a", id: undefined },
      { event: "message", data: "b", id: undefined },
    ]);
  });

  it("keeps waiting for the LF of a CR across chunks that decode to nothing", () => {
    // An empty chunk, or a lone lead byte of "é", decodes to "": the LF after it still pairs with the CR.
    expect(read("data: x\r", [], "\ndata: y\n\n")).toEqual([
      { event: "message", data: "x\ny", id: undefined },
    ]);
    expect(read("data: x\r", [0xc3], [0xa9], "\n\n")).toEqual([
      { event: "message", data: "x", id: undefined },
    ]);
  });

  it("decodes a multi-byte character split across chunks, byte by byte", () => {
    const bytes = [...encoder.encode("data: 25 °C ☀️ 😀 ok\n\n")];
    expect(read(...bytes.map((byte) => [byte]))).toEqual([
      { event: "message", data: "25 °C ☀️ 😀 ok", id: undefined },
    ]);
  });

  it("ignores comments and blocks without data", () => {
    expect(read(": keep-alive\n\n:\n\nretry: 1000\n\nid: 3\n\n: x\ndata: a\n\n")).toEqual([
      { event: "message", data: "a", id: undefined },
    ]);
  });

  it("discards a last event that is not closed by a blank line", () => {
    expect(read("data: a\n\ndata: b\n")).toEqual([{ event: "message", data: "a", id: undefined }]);
    expect(read("data: a\n\ndata: b")).toHaveLength(1);
    expect(read("data: a\n\ndata: b\r")).toHaveLength(1);
  });

  it("joins data lines with LF and strips exactly one leading space", () => {
    expect(read("data:x\ndata:  y\ndata\ndata: \n\n")).toEqual([
      { event: "message", data: "x\n y\n\n", id: undefined },
    ]);
  });

  it("dispatches an empty data field (a field name without colon)", () => {
    expect(read("data\n\n")).toEqual([{ event: "message", data: "", id: undefined }]);
  });

  it("defaults the event type to message, also when event: is empty", () => {
    expect(read("event:\ndata: a\n\n")[0]?.event).toBe("message");
    expect(read("event: x\n\ndata: a\n\n")[0]?.event).toBe("message");
  });

  it("reports each block's own id and keeps the spec's last-event-id across blocks", () => {
    const reader = new SseReader();
    const messages = reader.push(encoder.encode("data: a\nid: 1\n\ndata: b\n\nid: 2\u00003\ndata: c\n\n"));
    expect(messages.map((message) => message.id)).toEqual(["1", undefined, undefined]);
    // An id containing NUL is ignored entirely.
    expect(reader.lastEventId).toBe("1");
  });

  it("keeps only all-digit retry values", () => {
    const reader = new SseReader();
    reader.push(encoder.encode("retry: 1500\n\nretry: 2s\n\n"));
    expect(reader.retry).toBe(1500);
  });

  it("strips a leading byte order mark", () => {
    expect(read([0xef, 0xbb, 0xbf], "data: a\n\n")).toEqual([{ event: "message", data: "a", id: undefined }]);
  });

  it("ignores unknown fields", () => {
    expect(read("foo: bar\ndata: a\n\n")).toEqual([{ event: "message", data: "a", id: undefined }]);
  });

  for (const name of CHAT_FIXTURES) {
    it(`reads ${name} identically however it is split, with LF and with CRLF`, { timeout: 30_000 }, () => {
      const lf = readChatFixture(name);
      for (const text of [lf, lf.replace(/\n/g, "\r\n")]) {
        const { bytes, ends } = numberEvents(text);
        const whole = readBytes([bytes]);
        expect(whole).toHaveLength(ends.length);
        expect(whole.map((message) => message.id)).toEqual(ends.map((_, index) => String(index + 1)));
        const expected = signature(whole);
        // One-byte chunks put a boundary at every position at once (inside CRLF and UTF-8 too).
        const oneByte = Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1));
        expect(signature(readBytes(oneByte))).toBe(expected);
        // Each two-piece split re-reads the whole file: a stride through the big one keeps it quick.
        const stride = bytes.length > 20_000 ? 11 : 1;
        for (let cut = 1; cut < bytes.length; cut += stride) {
          const split = signature(readBytes([bytes.subarray(0, cut), bytes.subarray(cut)]));
          // Compare cheaply, and let expect() print the difference only when there is one.
          if (split !== expected) expect(split, `split at byte ${cut}`).toBe(expected);
        }
      }
    });
  }
});
