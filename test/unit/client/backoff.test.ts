import { describe, expect, it } from "vitest";
import { backoffDelay } from "../../../src/client/index.ts";

describe("backoffDelay", () => {
  it("doubles per attempt from the base", () => {
    expect([0, 1, 2, 3].map((attempt) => backoffDelay(attempt, 100, 10_000, () => 1))).toEqual([
      100, 200, 400, 800,
    ]);
  });

  it("never waits less than half the step, whatever the jitter", () => {
    expect([0, 1, 2].map((attempt) => backoffDelay(attempt, 100, 10_000, () => 0))).toEqual([50, 100, 200]);
  });

  it("caps each wait", () => {
    expect(backoffDelay(30, 250, 8_000, () => 1)).toBe(8_000);
  });

  it("spreads retries within the step", () => {
    const delays = new Set(Array.from({ length: 50 }, () => backoffDelay(3, 100, 10_000, Math.random)));
    expect(delays.size).toBeGreaterThan(10);
    for (const delay of delays) expect(delay).toBeGreaterThanOrEqual(400);
  });
});
