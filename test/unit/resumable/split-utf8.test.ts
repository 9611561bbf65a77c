import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ROW_TEXT_BYTES, splitUtf8 } from "../../../src/resumable/event-store.ts";

const encoder = new TextEncoder();
const bytes = (s: string) => encoder.encode(s).length;
/** A surrogate without its other half (what a cut inside a pair would leave). */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const wellFormed = (s: string) => !LONE_SURROGATE.test(s);

describe("splitUtf8 (how a batch too big for one row is cut)", () => {
  it("leaves text of up to the bound whole, and cuts one byte more in two", () => {
    const exact = "x".repeat(ROW_TEXT_BYTES);
    expect(splitUtf8(exact, ROW_TEXT_BYTES)).toEqual([exact]);
    const over = `${exact}y`;
    const parts = splitUtf8(over, ROW_TEXT_BYTES);
    expect(parts).toEqual([exact, "y"]);
  });

  it("never cuts inside a multi-byte character or a surrogate pair, whatever byte the bound falls on", () => {
    for (const ch of ["é", "€", "😀"]) {
      for (let shift = 0; shift < 4; shift++) {
        const text = "a".repeat(shift) + ch.repeat(40);
        const parts = splitUtf8(text, 16);
        expect(parts.join("")).toBe(text);
        for (const p of parts) {
          expect(bytes(p)).toBeLessThanOrEqual(16);
          expect(wellFormed(p)).toBe(true);
        }
      }
    }
  });

  it("joins back to the text, in pieces within the bound, each as full as a whole character allows", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: "binary", maxLength: 300 }),
        fc.integer({ min: 4, max: 64 }),
        (s, max) => {
          // A batch is JSON.stringify output: well-formed (lone surrogates are escaped), as here.
          const text = s.replace(new RegExp(LONE_SURROGATE, "g"), "\uFFFD");
          const parts = splitUtf8(text, max);
          expect(parts.join("")).toBe(text);
          for (const [i, p] of parts.entries()) {
            expect(bytes(p)).toBeLessThanOrEqual(max);
            expect(wellFormed(p)).toBe(true);
            const next = parts[i + 1];
            const cp = next === undefined ? undefined : String.fromCodePoint(next.codePointAt(0) ?? 0);
            // No piece stops early: the next character would not have fitted.
            if (cp !== undefined && parts.length > 1) expect(bytes(p) + bytes(cp)).toBeGreaterThan(max);
          }
        },
      ),
    );
  });
});
