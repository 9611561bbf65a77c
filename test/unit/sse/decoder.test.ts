import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SseDecoder } from "../../../src/sse/decoder.ts";
import type { SseEvent } from "../../../src/sse/types.ts";

/** Feeds the pieces in order and ends the stream, collecting every event. */
function decode(...pieces: string[]): SseEvent[] {
  const decoder = new SseDecoder();
  const events = pieces.flatMap((piece) => decoder.push(piece));
  return [...events, ...decoder.end()];
}

function only(events: SseEvent[]): SseEvent {
  expect(events).toHaveLength(1);
  const [event] = events;
  if (event === undefined) throw new Error("no event");
  return event;
}

describe("SseDecoder fields", () => {
  it("parses event, data and id of an LF block", () => {
    expect(only(decode('event: delta\ndata: {"a":1}\nid: 42\n\n'))).toEqual({
      raw: 'event: delta\ndata: {"a":1}\nid: 42\n\n',
      event: "delta",
      data: '{"a":1}',
      hasData: true,
      id: "42",
      strayLines: [],
      newline: "\n",
      terminated: true,
    });
  });

  it("strips exactly one space after the colon, and none when absent", () => {
    expect(only(decode("data:x\n\n")).data).toBe("x");
    expect(only(decode("data:  x\n\n")).data).toBe(" x");
    expect(only(decode("data: a: b\n\n")).data).toBe("a: b");
  });

  it("joins several data lines with LF, keeping empty ones", () => {
    expect(only(decode("data: a\ndata:\ndata: b\n\n")).data).toBe("a\n\nb");
  });

  it("keeps the last event and the last id", () => {
    const event = only(decode("event: a\nid: 1\nevent: b\nid: 2\ndata: x\n\n"));
    expect(event.event).toBe("b");
    expect(event.id).toBe("2");
  });

  it("ignores an id that contains NULL, as the spec says", () => {
    expect(only(decode("id: 1\nid: a\0b\ndata: x\n\n")).id).toBe("1");
  });

  it("treats a known field name without a colon as a field with an empty value", () => {
    expect(only(decode("data\n\n"))).toMatchObject({ data: "", hasData: true, strayLines: [] });
    expect(only(decode("event\ndata: x\n\n")).event).toBe("");
  });

  it("reports no data for a block without data lines", () => {
    expect(only(decode("event: ping\n\n"))).toMatchObject({ event: "ping", data: "", hasData: false });
  });

  it("keeps retry in raw without making it a stray line", () => {
    const event = only(decode("retry: 3000\ndata: x\n\n"));
    expect(event.raw).toBe("retry: 3000\ndata: x\n\n");
    expect(event.strayLines).toEqual([]);
  });

  it("collects unknown fields and bare lines as stray lines, in order, but not comments", () => {
    const event = only(decode(': note\n{\n  "error": {"code": 499}\nfoo: bar\nData: x\n}\n\n'));
    expect(event.strayLines).toEqual(["{", '  "error": {"code": 499}', "foo: bar", "Data: x", "}"]);
    expect(event.hasData).toBe(false);
  });

  it("emits a comment-only keep-alive block as soon as its blank line is pushed", () => {
    const decoder = new SseDecoder();
    expect(decoder.push(": PROCESSING\n\n")).toEqual([
      {
        raw: ": PROCESSING\n\n",
        event: undefined,
        data: "",
        hasData: false,
        id: undefined,
        strayLines: [],
        newline: "\n",
        terminated: true,
      },
    ]);
  });
});

describe("SseDecoder line endings and chunk boundaries", () => {
  it("emits a block from the push that completes it, keeping the rest for later", () => {
    const decoder = new SseDecoder();
    expect(decoder.push("data: a\n\ndata: b").map((ev) => ev.data)).toEqual(["a"]);
    expect(decoder.push("\n\n").map((ev) => ev.data)).toEqual(["b"]);
    expect(decoder.end()).toEqual([]);
  });

  it("reports CRLF blocks with their exact raw text", () => {
    const event = only(decode("data: a\r\ndata: b\r\n\r\n"));
    expect(event).toMatchObject({ raw: "data: a\r\ndata: b\r\n\r\n", data: "a\nb", newline: "\r\n" });
  });

  it("handles CR-only line ends and emits CR blocks without waiting for the next push", () => {
    const decoder = new SseDecoder();
    const events = decoder.push("event: x\rdata: a\r\rdata: b\r\r");
    expect(events.map((ev) => [ev.raw, ev.event, ev.data, ev.newline])).toEqual([
      ["event: x\rdata: a\r\r", "x", "a", "\r"],
      ["data: b\r\r", undefined, "b", "\r"],
    ]);
    expect(decoder.end()).toEqual([]);
  });

  it("treats an LF after a CR block's blank line as an extra blank line, whatever the chunking", () => {
    const whole = decode("data: a\r\r\ndata: b\r\r");
    expect(whole.map((ev) => ev.raw)).toEqual(["data: a\r\r", "\ndata: b\r\r"]);
    expect(decode("data: a\r", "\r", "\n", "data: b\r\r")).toEqual(whole);
  });

  it("holds a CR at the end of a push until it knows whether an LF follows", () => {
    const decoder = new SseDecoder();
    expect(decoder.push("data: a\r")).toEqual([]);
    expect(decoder.push("\n\r")).toEqual([]);
    const [event, ...rest] = decoder.push("\n");
    expect(rest).toEqual([]);
    expect(event).toMatchObject({ raw: "data: a\r\n\r\n", data: "a", newline: "\r\n", terminated: true });
  });

  it("ends a held CR line as a bare CR when the next push does not start with LF", () => {
    const event = only(decode("data: a\r", "data: b\r", "\r"));
    expect(event).toMatchObject({ raw: "data: a\rdata: b\r\r", data: "a\nb", newline: "\r" });
  });

  it("dispatches a block whose blank line's CR was held when the stream ends", () => {
    const decoder = new SseDecoder();
    expect(decoder.push("data: a\n\r")).toEqual([]);
    expect(decoder.end()).toEqual([expect.objectContaining({ raw: "data: a\n\r", terminated: true })]);
  });

  it("puts blank lines between blocks in front of the next block, and trailing ones in a last empty block", () => {
    const events = decode("\n\ndata: a\n\n\n\ndata: b\n\n\r\n");
    expect(events.map((ev) => [ev.raw, ev.data, ev.hasData, ev.terminated])).toEqual([
      ["\n\ndata: a\n\n", "a", true, true],
      ["\n\ndata: b\n\n", "b", true, true],
      ["\r\n", "", false, true],
    ]);
    expect(events[0]?.newline).toBe("\n");
    expect(events[2]?.newline).toBe("\r\n");
  });

  it("emits a final block without a blank line at end(), marked unterminated", () => {
    const decoder = new SseDecoder();
    expect(decoder.push("event: message_stop\ndata: {}")).toEqual([]);
    expect(decoder.end()).toEqual([
      {
        raw: "event: message_stop\ndata: {}",
        event: "message_stop",
        data: "{}",
        hasData: true,
        id: undefined,
        strayLines: [],
        newline: "\n",
        terminated: false,
      },
    ]);
  });

  it("emits a final block that ends in a single line break as unterminated", () => {
    expect(only(decode("data: a\r\n"))).toMatchObject({
      raw: "data: a\r\n",
      newline: "\r\n",
      terminated: false,
    });
    expect(only(decode("data: a\r"))).toMatchObject({ raw: "data: a\r", newline: "\r", terminated: false });
  });

  it("gives a final line with no terminator at all the previous block's newline style", () => {
    const events = decode("data: a\r\n\r\ndata: b");
    expect(events[1]).toMatchObject({ raw: "data: b", newline: "\r\n", terminated: false });
  });

  it("returns nothing from end() or empty pushes when no text is pending", () => {
    const decoder = new SseDecoder();
    expect(decoder.push("")).toEqual([]);
    expect(decoder.end()).toEqual([]);
  });

  it("does not treat a BOM as special (the byte stream drops it before decoding)", () => {
    expect(only(decode("\uFEFFdata: a\n\n")).strayLines).toEqual(["\uFEFFdata: a"]);
  });

  it("reads a 1 MB line pushed one character at a time in linear time", () => {
    const payload = "x".repeat(1_000_000);
    const text = `data: ${payload}\n\n`;
    const decoder = new SseDecoder();
    const events: SseEvent[] = [];
    // Quadratic rescanning or rebuilding of the pending line would take minutes here.
    for (let i = 0; i < text.length; i++) events.push(...decoder.push(text.charAt(i)));
    expect(events).toHaveLength(1);
    expect(events[0]?.data).toBe(payload);
    expect(events[0]?.raw).toBe(text);
  });
});

// Token soup biased towards SSE syntax, line breaks of every style, multi-unit characters and junk.
const TOKENS = [
  "data",
  "data:",
  "data: ",
  "event: ",
  "event:",
  "id: ",
  "id:",
  "retry: 10",
  ":",
  ": c",
  "x",
  "é",
  "😀",
  "{",
  " ",
  "foo: bar",
  "\0",
  "\r",
  "\n",
  "\r\n",
  "\n\n",
  "\r\n\r\n",
  "\r\r",
] as const;
const sseText = fc.array(fc.constantFrom(...TOKENS), { maxLength: 60 }).map((tokens) => tokens.join(""));
const cuts = fc.array(fc.nat(), { maxLength: 12 });

function cutText(text: string, positions: readonly number[]): string[] {
  const at = [...new Set(positions.map((p) => p % (text.length + 1)))].sort((a, b) => a - b);
  const pieces: string[] = [];
  let start = 0;
  for (const cut of at) {
    pieces.push(text.slice(start, cut));
    start = cut;
  }
  pieces.push(text.slice(start));
  return pieces;
}

interface ModelBlock {
  event: string | undefined;
  data: string;
  hasData: boolean;
  id: string | undefined;
  strayLines: string[];
  terminated: boolean;
}

/**
 * Deliberately naive model of the spec: split the whole text into lines first, then group lines into
 * blocks at blank lines. It ignores raw text, which is where the real decoder's cleverness lives.
 */
function model(text: string): ModelBlock[] {
  const lines = text.split(/\r\n|\r|\n/);
  const blocks: ModelBlock[] = [];
  let block: (ModelBlock & { dataLines: string[] }) | undefined;
  lines.forEach((line, i) => {
    const lastPiece = i === lines.length - 1;
    if (line === "") {
      if (block !== undefined && !lastPiece) {
        const { dataLines, ...rest } = block;
        blocks.push({ ...rest, data: dataLines.join("\n"), hasData: dataLines.length > 0 });
        block = undefined;
      }
      return;
    }
    block ??= {
      event: undefined,
      data: "",
      hasData: false,
      id: undefined,
      strayLines: [],
      dataLines: [],
      terminated: true,
    };
    if (line.startsWith(":")) return;
    const match = /^([^:]*)(?::( ?)([\s\S]*))?$/.exec(line);
    const name = match?.[1] ?? "";
    const value = match?.[3] ?? "";
    if (name === "data") block.dataLines.push(value);
    else if (name === "event") block.event = value;
    else if (name === "id") block.id = value.includes("\0") ? block.id : value;
    else if (name !== "retry") block.strayLines.push(line);
  });
  if (block !== undefined) {
    const { dataLines, ...rest } = block;
    blocks.push({ ...rest, data: dataLines.join("\n"), hasData: dataLines.length > 0, terminated: false });
  }
  return blocks;
}

/** True for a block made only of blank lines (nothing a client would parse). */
function blankOnly(ev: SseEvent): boolean {
  return /^[\r\n]+$/.test(ev.raw);
}

describe("SseDecoder properties", () => {
  it("gives the same events for any chunking as for one push, and raw adds up to the input", () => {
    fc.assert(
      fc.property(sseText, cuts, (text, positions) => {
        const whole = decode(text);
        const chunked = decode(...cutText(text, positions));
        expect(chunked).toEqual(whole);
        expect(chunked.map((ev) => ev.raw).join("")).toBe(text);
        expect(chunked.slice(0, -1).every((ev) => ev.terminated)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it("agrees with a naive whole-text model of the spec on every field", () => {
    fc.assert(
      fc.property(sseText, cuts, (text, positions) => {
        const events = decode(...cutText(text, positions)).filter((ev) => !blankOnly(ev));
        expect(
          events.map(({ event, data, hasData, id, strayLines, terminated }) => ({
            event,
            data,
            hasData,
            id,
            strayLines: [...strayLines],
            terminated,
          })),
        ).toEqual(model(text));
      }),
      { numRuns: 2000 },
    );
  });
});

describe("SseDecoder maximum event size", () => {
  /** Every event `pieces` give under `limit`, and the decoder (for its error). */
  function limited(limit: number, ...pieces: string[]): { events: SseEvent[]; decoder: SseDecoder } {
    const decoder = new SseDecoder({ maxEventLength: limit });
    const events = pieces.flatMap((piece) => decoder.push(piece));
    return { events: [...events, ...decoder.end()], decoder };
  }

  it("passes an event exactly at the limit and refuses one a character longer", () => {
    const at = "data: 1234\n\n"; // 12 characters
    expect(limited(12, at).events.map((ev) => ev.raw)).toEqual([at]);
    const { events, decoder } = limited(11, at);
    expect(events).toEqual([]);
    expect(decoder.error).toEqual({ reason: "event_too_large", length: 12, limit: 11 });
  });

  it("stops as soon as an event that never ends is over the limit, before it is complete", () => {
    const decoder = new SseDecoder({ maxEventLength: 100 });
    expect(decoder.push("data: ok\n\ndata: ")).toHaveLength(1);
    for (let i = 0; i < 10; i++) decoder.push("x".repeat(9));
    expect(decoder.error).toBeUndefined();
    // 6 characters of "data: " and 90 of x's: one more push of 9 goes over 100.
    expect(decoder.push("x".repeat(9))).toEqual([]);
    expect(decoder.error).toEqual({ reason: "event_too_large", length: 105, limit: 100 });
  });

  it("returns nothing more once stopped: not the rest of the event, not later events, not at the end", () => {
    const decoder = new SseDecoder({ maxEventLength: 20 });
    expect(decoder.push(`data: ${"y".repeat(30)}`)).toEqual([]);
    expect(decoder.push("\n\ndata: small\n\n")).toEqual([]);
    expect(decoder.end()).toEqual([]);
    expect(decoder.error?.reason).toBe("event_too_large");
  });

  it("returns the events before a too-long one that a single push completes, and none after it", () => {
    const { events, decoder } = limited(20, `data: a\n\ndata: ${"z".repeat(30)}\n\ndata: b\n\n`);
    expect(events.map((ev) => ev.data)).toEqual(["a"]);
    expect(decoder.error?.length).toBe(38);
  });

  it("returns an unterminated final event within the limit at the end, and refuses a longer one", () => {
    expect(limited(10, "data: ", "z".repeat(4)).events.map((ev) => ev.data)).toEqual(["zzzz"]);
    const { events, decoder } = limited(9, "data: ", "z".repeat(4));
    expect(events).toEqual([]);
    expect(decoder.error?.length).toBe(10);
  });

  it("refuses the same events whatever the chunking", () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom("data: ", "x", "xxxxxxx", "\n", "\r\n", "\r", ": c", "event: e"), {
          maxLength: 40,
        }),
        fc.array(fc.nat(), { maxLength: 8 }),
        fc.integer({ min: 1, max: 40 }),
        (parts, cuts, limit) => {
          const text = parts.join("");
          const whole = limited(limit, text);
          const at = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
          const pieces: string[] = [];
          let from = 0;
          for (const cut of at) {
            pieces.push(text.slice(from, cut));
            from = cut;
          }
          pieces.push(text.slice(from));
          const split = limited(limit, ...pieces);
          expect(split.events).toEqual(whole.events);
          expect(split.decoder.error === undefined).toBe(whole.decoder.error === undefined);
          // Without a limit the same input gives the same events, every one of them within the limit.
          const all = decode(text);
          const within = all.findIndex((ev) => ev.raw.length > limit);
          expect(whole.events).toEqual(within === -1 ? all : all.slice(0, within));
        },
      ),
      { numRuns: 2000 },
    );
  });
});
