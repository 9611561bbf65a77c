import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SseDecoder } from "../../../src/sse/decoder.ts";
import { commentEvent, formatEvent, sseEvent, withId } from "../../../src/sse/encode.ts";
import type { SseEvent } from "../../../src/sse/types.ts";
import { decodeAll, fixtureNames, readFixture } from "../../support/fixtures.ts";

function decodeText(text: string): SseEvent[] {
  const decoder = new SseDecoder();
  return [...decoder.push(text), ...decoder.end()];
}

function decodeOne(text: string): SseEvent {
  const events = decodeText(text);
  expect(events).toHaveLength(1);
  const [event] = events;
  if (event === undefined) throw new Error("no event");
  return event;
}

describe("formatEvent", () => {
  it("writes event, data and id lines and a blank line", () => {
    expect(formatEvent({ event: "delta", data: '{"a":1}', id: "s1:7" })).toBe(
      'event: delta\ndata: {"a":1}\nid: s1:7\n\n',
    );
    expect(formatEvent({ data: "x" })).toBe("data: x\n\n");
  });

  it("writes one data line per line of data, whatever the line breaks", () => {
    const block = formatEvent({ data: "a\nb\r\nc\rd" });
    expect(block).toBe("data: a\ndata: b\ndata: c\ndata: d\n\n");
    expect(decodeOne(block).data).toBe("a\nb\nc\nd");
  });

  it("uses CRLF throughout when asked", () => {
    const block = formatEvent({ event: "e", data: "a\nb", id: "1" }, "\r\n");
    expect(block).toBe("event: e\r\ndata: a\r\ndata: b\r\nid: 1\r\n\r\n");
    expect(decodeOne(block)).toMatchObject({ event: "e", data: "a\nb", id: "1", newline: "\r\n" });
  });

  it("round-trips empty data, empty lines and leading spaces exactly", () => {
    for (const data of ["", " x", "  two", "a\n\nb", "\n", "x "]) {
      const ev = decodeOne(formatEvent({ data }));
      expect(ev.data).toBe(data);
      expect(ev.hasData).toBe(true);
    }
  });

  it("refuses an event name or id that would inject a line", () => {
    expect(() => formatEvent({ event: "a\ndata: evil", data: "x" })).toThrow(RangeError);
    expect(() => formatEvent({ data: "x", id: "1\r" })).toThrow(RangeError);
    expect(() => formatEvent({ data: "x", id: "1\0" })).toThrow(RangeError);
  });
});

describe("withId", () => {
  it("adds the id as the last field line of an LF block", () => {
    const ev = decodeOne("event: delta\ndata: 1\n\n");
    expect(withId(ev, "s:7")).toBe("event: delta\ndata: 1\nid: s:7\n\n");
  });

  it("keeps a CRLF block's line style", () => {
    expect(withId(decodeOne("data: 1\r\n\r\n"), "7")).toBe("data: 1\r\nid: 7\r\n\r\n");
  });

  it("keeps a CR-only block's line style", () => {
    expect(withId(decodeOne("data: 1\r\r"), "7")).toBe("data: 1\rid: 7\r\r");
  });

  it("overrides an upstream id without touching the upstream line", () => {
    const text = withId(decodeOne("id: upstream-3\ndata: 1\n\n"), "ours-9");
    expect(text).toBe("id: upstream-3\ndata: 1\nid: ours-9\n\n");
    expect(decodeOne(text).id).toBe("ours-9");
  });

  it("ends an unterminated block that stopped mid-line, then adds the id and the blank line", () => {
    const text = withId(decodeOne("event: message_stop\ndata: {}"), "7");
    expect(text).toBe("event: message_stop\ndata: {}\nid: 7\n\n");
    expect(decodeOne(text)).toMatchObject({ event: "message_stop", data: "{}", id: "7", terminated: true });
  });

  it("adds the id and blank line after an unterminated block's final line break", () => {
    expect(withId(decodeOne('data: {"x":1}\r\n'), "7")).toBe('data: {"x":1}\r\nid: 7\r\n\r\n');
    expect(withId(decodeOne("data: 1\r"), "7")).toBe("data: 1\rid: 7\r\r");
  });

  it("keeps blank lines that led the block", () => {
    const [ev] = decodeText("\n\ndata: 1\n\n");
    if (ev === undefined) throw new Error("no event");
    expect(withId(ev, "7")).toBe("\n\ndata: 1\nid: 7\n\n");
  });

  it("refuses an id that would inject a line or that readers would ignore", () => {
    const ev = decodeOne("data: 1\n\n");
    expect(() => withId(ev, "7\ndata: evil")).toThrow(RangeError);
    expect(() => withId(ev, "7\0")).toThrow(RangeError);
  });

  it("on every event of every fixture, only adds the id: the rest reads back unchanged", async () => {
    for (const name of fixtureNames()) {
      const events = await decodeAll([readFixture(name)]);
      events.forEach((ev, i) => {
        const id = `${name}#${i}`;
        const text = withId(ev, id);
        const [back, ...extra] = decodeText(text);
        expect(extra, name).toEqual([]);
        expect(back, `${name} event ${i}`).toEqual({ ...ev, raw: text, id, terminated: true });
        // Byte for byte, the edit is one inserted line (plus the blank line an unterminated block lacked).
        const keep = ev.terminated ? ev.raw.length - (ev.raw.endsWith("\r\n") ? 2 : 1) : ev.raw.length;
        expect(text.startsWith(ev.raw.slice(0, keep)), name).toBe(true);
        expect(text.endsWith(ev.raw.slice(keep)), name).toBe(true);
      });
    }
  });
});

describe("sseEvent", () => {
  it("is formatEvent's text with exactly the fields the decoder reads back from it", () => {
    const line = fc.stringMatching(/^[^\r\n\0]*$/);
    fc.assert(
      fc.property(
        fc.record({ event: line, data: fc.string(), id: line }, { requiredKeys: ["data"] }),
        fc.constantFrom("\n" as const, "\r\n" as const),
        (fields, newline) => {
          const ev = sseEvent(fields, newline);
          expect(ev.raw).toBe(formatEvent(fields, newline));
          expect(ev).toEqual(decodeOne(ev.raw));
        },
      ),
      { numRuns: 1000 },
    );
  });

  it("joins the lines of multi-line data with LF, as a reader does", () => {
    expect(sseEvent({ data: "a\r\nb\rc" })).toMatchObject({
      raw: "data: a\ndata: b\ndata: c\n\n",
      data: "a\nb\nc",
    });
  });

  it("refuses an event name or id that would inject a line, as formatEvent does", () => {
    expect(() => sseEvent({ event: "a\ndata: evil", data: "x" })).toThrow(RangeError);
    expect(() => sseEvent({ data: "x", id: "1\0" })).toThrow(RangeError);
  });
});

describe("commentEvent", () => {
  it("carries a comment block with the fields the decoder reads from it", () => {
    for (const raw of [": timings {}\n\n", ": a\n: b\n\n", ":\r\n\r\n", ': timings {"x":1}\r\n\r\n']) {
      expect(commentEvent(raw)).toEqual(decodeOne(raw));
    }
  });

  it("refuses text that is not exactly one comment block", () => {
    for (const raw of ["data: x\n\n", ": a\n", ": a\n\n: b\n\n", ": a\r\n\n", ": a\rb\n\n", ""]) {
      expect(() => commentEvent(raw), JSON.stringify(raw)).toThrow(RangeError);
    }
  });
});
