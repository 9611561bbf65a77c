import { describe, expect, it } from "vitest";
import { turnOrder } from "../../../bench/random.ts";

const TARGETS = ["direct", "passthrough", "js-stage", "objects-floor", "gateway", "gateway-default", "own"];

/** How often each target went right after `before`, over `rounds` rounds run back to back. */
function followers(before: string, rounds: number): Map<string, number> {
  const counts = new Map<string, number>();
  let last: string | undefined;
  for (let r = 0; r < rounds; r++) {
    for (const t of turnOrder(TARGETS, r)) {
      if (last === before) counts.set(t, (counts.get(t) ?? 0) + 1);
      last = t;
    }
  }
  return counts;
}

describe("bench turn order", () => {
  it("gives every target exactly one turn per round", () => {
    for (let r = 0; r < 50; r++) expect([...turnOrder(TARGETS, r)].sort()).toEqual([...TARGETS].sort());
  });

  it("is the same for the same round, so a run can be repeated", () => {
    expect(turnOrder(TARGETS, 7)).toEqual(turnOrder(TARGETS, 7));
    expect(turnOrder(TARGETS, 7)).not.toEqual(turnOrder(TARGETS, 8));
  });

  it("puts no target behind the same one round after round", () => {
    // A fixed order would give "own" the same follower in all 200 rounds.
    const after = followers("own", 200);
    // Every other target (and itself, where one round ends with it and the next begins with it).
    expect(after.size).toBeGreaterThanOrEqual(TARGETS.length - 1);
    for (const [, n] of after) expect(n).toBeLessThan(200 / 3);
  });

  it("leaves its input as it was", () => {
    const input = [...TARGETS];
    turnOrder(input, 3);
    expect(input).toEqual(TARGETS);
  });
});
