import { describe, expect, it } from "vitest";
import type { SseEvent } from "../../../src/sse/types.ts";
import {
  decodeAll,
  decodedText,
  everyBoundary,
  fixtureNames,
  oneByteChunks,
  randomSplits,
  readFixture,
} from "../../support/fixtures.ts";

// Above this size, n two-piece splits of n bytes each cost O(n^2); one-byte chunks put a boundary
// at every position in a single O(n) run instead.
const EVERY_BOUNDARY_MAX_BYTES = 20_000;
const SEEDS = [1, 2, 3, 4, 5, 6, 7, 8];

const names = fixtureNames();

function sameEvent(a: SseEvent, b: SseEvent): boolean {
  return (
    a.raw === b.raw &&
    a.event === b.event &&
    a.data === b.data &&
    a.hasData === b.hasData &&
    a.id === b.id &&
    a.newline === b.newline &&
    a.terminated === b.terminated &&
    a.strayLines.length === b.strayLines.length &&
    a.strayLines.every((line, i) => line === b.strayLines[i])
  );
}

/** Cheap field-by-field check first (runs thousands of times); the deep diff only on a mismatch. */
function expectSameEvents(actual: SseEvent[], expected: SseEvent[], label: string): void {
  if (actual.length === expected.length && actual.every((ev, i) => sameEventAt(ev, expected, i))) return;
  expect(actual, label).toEqual(expected);
}

function sameEventAt(ev: SseEvent, expected: SseEvent[], i: number): boolean {
  const other = expected[i];
  return other !== undefined && sameEvent(ev, other);
}

describe("SseByteDecoder on every recorded upstream stream", () => {
  it("finds the fixtures", () => {
    expect(names.length).toBeGreaterThanOrEqual(25);
  });

  describe.each(names)("%s", (name) => {
    const bytes = readFixture(name);

    it("reproduces the decoded input exactly by concatenating raw, fed whole", async () => {
      const events = await decodeAll([bytes]);
      expect(events.length).toBeGreaterThan(0);
      expect(events.map((ev) => ev.raw).join("")).toBe(decodedText(bytes));
      // Only the last block can be cut off by EOF.
      expect(events.slice(0, -1).every((ev) => ev.terminated)).toBe(true);
    });

    it("gives the same events when split at random (seeded)", async () => {
      const whole = await decodeAll([bytes]);
      for (const seed of SEEDS) {
        for (const count of [3, 40, 400]) {
          const chunks = randomSplits(bytes, seed, count);
          const events = await decodeAll(chunks);
          expectSameEvents(events, whole, `seed ${seed}, ${chunks.length} pieces`);
        }
      }
    });

    if (bytes.length <= EVERY_BOUNDARY_MAX_BYTES) {
      // Thousands of full decodes: allow well beyond the default timeout on a slow CI runner.
      it("gives the same events when split in two at every byte boundary", { timeout: 60_000 }, async () => {
        const whole = await decodeAll([bytes]);
        let splits = 0;
        for (const [head, tail] of everyBoundary(bytes)) {
          expectSameEvents(await decodeAll([head, tail]), whole, `split at byte ${head.length}`);
          splits++;
        }
        expect(splits).toBe(bytes.length - 1);
      });
    }

    it("gives the same events when fed one byte at a time", async () => {
      const whole = await decodeAll([bytes]);
      const events = await decodeAll(oneByteChunks(bytes));
      expectSameEvents(events, whole, "one-byte chunks");
      // No multi-byte character was broken into replacement characters by the splits.
      expect(events.some((ev) => ev.raw.includes("\uFFFD"))).toBe(false);
    });
  });
});
