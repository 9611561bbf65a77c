import { describe, expect, it } from "vitest";
import { backoffMs, MAX_BACKOFF_MS, retryAfterMs } from "../../../src/exchange/backoff.ts";
import { CircuitBreakers } from "../../../src/exchange/circuit.ts";

describe("CircuitBreakers", () => {
  it("opens after the configured consecutive failures, lets one probe through after the cooldown, closes on success", () => {
    let now = 0;
    const c = new CircuitBreakers(3, 1000, () => now);
    c.failure("a/x");
    c.failure("a/x");
    expect(c.allow("a/x")).toBe(true);
    c.failure("a/x");
    expect(c.allow("a/x")).toBe(false);
    expect(c.allow("b/y")).toBe(true);
    now = 1000;
    expect(c.allow("a/x")).toBe(true);
    c.begin("a/x");
    // While the probe is out, others still skip the target.
    expect(c.allow("a/x")).toBe(false);
    c.success("a/x");
    expect(c.allow("a/x")).toBe(true);
    expect(c.isOpen("a/x")).toBe(false);
  });

  it("opens again when the probe fails, and a longer retry-after extends the cooldown", () => {
    let now = 0;
    const c = new CircuitBreakers(1, 1000, () => now);
    c.failure("a/x", 5000);
    now = 1000;
    expect(c.allow("a/x")).toBe(false);
    now = 5000;
    expect(c.allow("a/x")).toBe(true);
    c.begin("a/x");
    c.failure("a/x");
    expect(c.allow("a/x")).toBe(false);
    now = 6000;
    expect(c.allow("a/x")).toBe(true);
  });

  it("a target looked at but never tried keeps its probe for later", () => {
    let now = 0;
    const c = new CircuitBreakers(1, 10, () => now);
    c.failure("a/x");
    now = 10;
    expect(c.allow("a/x")).toBe(true);
    expect(c.allow("a/x")).toBe(true);
  });
});

describe("backoff and retry-after", () => {
  it("doubles per retry with jitter between half and one and a half, capped", () => {
    expect(backoffMs(1, 100, () => 0)).toBe(50);
    expect(backoffMs(1, 100, () => 1)).toBe(150);
    expect(backoffMs(3, 100, () => 0.5)).toBe(400);
    expect(backoffMs(20, 100, () => 1)).toBe(MAX_BACKOFF_MS);
  });

  it("reads retry-after as seconds or as an HTTP date", () => {
    expect(retryAfterMs("7")).toBe(7000);
    expect(retryAfterMs("Wed, 21 Oct 2015 07:28:05 GMT", Date.parse("Wed, 21 Oct 2015 07:28:00 GMT"))).toBe(
      5000,
    );
    expect(retryAfterMs("Wed, 21 Oct 2015 07:28:00 GMT", Date.parse("Wed, 21 Oct 2015 07:29:00 GMT"))).toBe(
      0,
    );
    expect(retryAfterMs("soon")).toBeUndefined();
    expect(retryAfterMs(undefined)).toBeUndefined();
  });
});
