import { describe, expect, it } from "vitest";
import { Redactor } from "../../../src/guardrail/redactor.ts";

const TEXT = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ";

/** Rewrites TEXT in the given pieces (absolute cut points) and joins the output. */
function rewriteIn(redactor: Redactor, cuts: number[]): string[] {
  const points = [0, ...cuts, TEXT.length];
  return points.slice(1).map((end, i) => redactor.rewrite(TEXT.slice(points[i], end), points[i] ?? 0));
}

describe("Redactor", () => {
  it("writes one mask where a match starts and drops the rest of it, across pieces", () => {
    const r = new Redactor();
    r.add(5, 15, "<A>", false, 0);
    expect(rewriteIn(r, [8, 12, 20])).toEqual(["01234<A>", "", "fghij", TEXT.slice(20)]);
  });

  it("merges overlapping matches into one region showing the first match's mask", () => {
    const r = new Redactor();
    r.add(8, 20, "<B>", false, 1);
    r.add(5, 10, "<A>", false, 0);
    expect(rewriteIn(r, [])).toEqual([`01234<A>${TEXT.slice(20)}`]);
  });

  it("keeps adjacent matches of different rules apart, but joins a running match's next chunk", () => {
    const apart = new Redactor();
    apart.add(0, 5, "<A>", false, 0);
    apart.add(5, 8, "<B>", false, 1);
    expect(rewriteIn(apart, [])).toEqual([`<A><B>${TEXT.slice(8)}`]);
    const joined = new Redactor();
    joined.add(0, 5, "<A>", false, 0);
    joined.add(5, 8, "<A>", true, 0);
    expect(rewriteIn(joined, [])).toEqual([`<A>${TEXT.slice(8)}`]);
  });

  it("absorbs queued matches into a written region that a late overlapping match grew", () => {
    const r = new Redactor();
    r.add(0, 10, "<A>", false, 0);
    expect(r.rewrite(TEXT.slice(0, 4), 0)).toBe("<A>");
    r.add(11, 22, "<C>", false, 2);
    r.add(4, 26, "<B>", false, 1);
    expect(r.rewrite(TEXT.slice(4), 4)).toBe(TEXT.slice(26));
  });

  it("lets a chunk continuing a region join it even when another match starts at the same place", () => {
    const r = new Redactor();
    r.add(0, 10, "<A>", false, 0);
    r.add(10, 30, "<P>", false, 1);
    r.add(10, 14, "<A>", true, 0);
    expect(rewriteIn(r, [])).toEqual([`<A>${TEXT.slice(30)}`]);
  });

  it("returns the very same string when a piece is untouched", () => {
    const r = new Redactor();
    r.add(30, 32, "<A>", false, 0);
    const piece = TEXT.slice(0, 10);
    expect(r.rewrite(piece, 0)).toBe(piece);
  });
});
