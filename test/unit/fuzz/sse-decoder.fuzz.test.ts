import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SseDecoder } from "../../../src/sse/decoder.ts";
import type { SseEvent } from "../../../src/sse/types.ts";

/** Text rich in what SSE cares about (line ends, colons, field names) plus multi-byte characters. */
const sseText = fc.oneof(
  fc.string({ unit: "binary", maxLength: 200 }),
  fc
    .array(
      fc.constantFrom(
        "\r",
        "\n",
        "\r\n",
        "\n\n",
        ":",
        " ",
        "data",
        "event",
        "id",
        "retry",
        "x",
        "é",
        "😀",
        "\0",
      ),
      { maxLength: 60 },
    )
    .map((parts) => parts.join("")),
);

/** The text cut at random positions (empty pieces included: a chunk may be empty). */
const chunked = sseText.chain((text) =>
  fc.uniqueArray(fc.integer({ min: 0, max: text.length }), { maxLength: 8 }).map((cuts) => {
    const sorted = [...cuts].sort((a, b) => a - b);
    const pieces: string[] = [];
    let at = 0;
    for (const cut of sorted) {
      pieces.push(text.slice(at, cut));
      at = cut;
    }
    pieces.push(text.slice(at));
    return { text, pieces };
  }),
);

function decode(pieces: readonly string[]): SseEvent[] {
  const decoder = new SseDecoder();
  const events = pieces.flatMap((p) => decoder.push(p));
  return [...events, ...decoder.end()];
}

describe("SseDecoder under fuzzing", () => {
  it("never throws, and the concatenated raw text of its events is exactly the input", () => {
    fc.assert(
      fc.property(chunked, ({ text, pieces }) => {
        const events = decode(pieces);
        expect(events.map((e) => e.raw).join("")).toBe(text);
      }),
      { numRuns: 3000 },
    );
  });

  it("parses the same events however the input is chunked", () => {
    fc.assert(
      fc.property(chunked, ({ text, pieces }) => {
        expect(decode(pieces)).toEqual(decode([text]));
      }),
      { numRuns: 3000 },
    );
  });
});
