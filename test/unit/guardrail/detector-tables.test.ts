import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { inTable } from "../../../src/guardrail/detectors/text.ts";
import { BUILTIN_RULES } from "../../../src/guardrail/index.ts";
import "./fc-config.ts";
import { docArb, soupArb } from "./support.ts";

// The scanner trusts a detector's tables instead of calling it: `starts` to skip code units no start can be
// at, `inClass` to settle every start before a code unit no match can contain. A wrong table would let text
// out of the window before its match is decided, so each table is checked against the detector itself.
const textArb = fc.oneof(
  soupArb,
  docArb.map((d) => d.text),
);

describe("detector tables agree with their detector", () => {
  for (const { name, detector } of BUILTIN_RULES) {
    const { starts, inClass, viableAt } = detector;

    it(`${name}: no start it rules out is viable, nor any match found there`, () => {
      expect(starts, `${name} has a starts table`).toBeDefined();
      if (starts === undefined || viableAt === undefined) return;
      fc.assert(
        fc.property(textArb, (text) => {
          for (let p = 0; p < text.length; p++) {
            if (inTable(starts, text.charCodeAt(p))) continue;
            // Every prefix too: what is viable is judged on the text so far, mid-stream.
            for (const end of [p + 1, Math.min(text.length, p + 8), text.length])
              expect(viableAt(text.slice(0, end), p), `${name} at ${p} of ${JSON.stringify(text)}`).toBe(
                false,
              );
          }
          for (let from = 0, m = detector.find(text, 0); m !== undefined; m = detector.find(text, from)) {
            expect(inTable(starts, text.charCodeAt(m.start)), `${name} match at ${m.start}`).toBe(true);
            from = Math.max(m.end, m.start + 1);
          }
        }),
        { numRuns: 300 },
      );
    });

    it(`${name}: every code unit of a match is in its class`, () => {
      expect(inClass, `${name} has a class table`).toBeDefined();
      if (inClass === undefined) return;
      fc.assert(
        fc.property(textArb, (text) => {
          for (let from = 0, m = detector.find(text, 0); m !== undefined; m = detector.find(text, from)) {
            for (let q = m.start; q < m.end; q++)
              expect(
                inTable(inClass, text.charCodeAt(q)),
                `${name} match ${text.slice(m.start, m.end)}`,
              ).toBe(true);
            from = Math.max(m.end, m.start + 1);
          }
        }),
        { numRuns: 300 },
      );
    });
  }

  it("the tables hold nothing past ASCII", () => {
    for (const { detector } of BUILTIN_RULES) {
      for (const table of [detector.starts, detector.inClass]) {
        expect(table?.length).toBe(128);
        expect(table !== undefined && inTable(table, 0xe9)).toBe(false);
      }
    }
  });
});
