import { describe, expect, it } from "vitest";
import { ANONYMOUS_PRINCIPAL, type Principal } from "../../../src/auth/principal.ts";
import {
  bindingNameFor,
  checkRateLimit,
  enforceRateLimit,
  limiterFor,
  type RateLimiter,
  rateLimitKey,
  ratePeriodSeconds,
} from "../../../src/auth/rate-limit.ts";
import { ConfigError } from "../../../src/errors.ts";
import { gatewayError, req } from "./support.ts";

/** A fake of the Workers binding: allows `limit` calls per key, records every key it saw. */
class FakeBinding implements RateLimit {
  readonly keys: string[] = [];
  readonly #counts = new Map<string, number>();
  readonly #limit: number;
  constructor(limit: number) {
    this.#limit = limit;
  }
  async limit({ key }: RateLimitOptions): Promise<RateLimitOutcome> {
    this.keys.push(key);
    const n = (this.#counts.get(key) ?? 0) + 1;
    this.#counts.set(key, n);
    return { success: n <= this.#limit };
  }
}

const alice: Principal = { id: "jwt:alice", kind: "token", name: "alice", rateClass: "free" };

describe("rate limits", () => {
  it("allows requests under the limit and answers 429 with retry-after over it", async () => {
    const binding = new FakeBinding(2);
    const env = { RATE_LIMIT: binding, RATE_LIMIT_PERIOD_SECONDS: "10" };
    await checkRateLimit(req(), env, alice);
    await checkRateLimit(req(), env, alice);
    const err = await gatewayError(checkRateLimit(req(), env, alice), 429);
    expect(err.code).toBe("rate_limited");
    expect(err.headers).toEqual({ "retry-after": "10" });
    expect(binding.keys).toEqual(["jwt:alice", "jwt:alice", "jwt:alice"]);
  });

  it("means no limit when no binding is declared", async () => {
    expect(limiterFor({}, alice)).toBeUndefined();
    await enforceRateLimit(undefined, "k", 60);
  });

  it("uses the rate class's own binding, falling back to RATE_LIMIT", async () => {
    expect(bindingNameFor("pro-plus")).toBe("RATE_LIMIT_PRO_PLUS");
    const free = new FakeBinding(0);
    const fallback = new FakeBinding(100);
    const env = { RATE_LIMIT: fallback, RATE_LIMIT_FREE: free };
    await gatewayError(checkRateLimit(req(), env, alice), 429);
    await checkRateLimit(req(), env, { id: "key:b", kind: "key", name: "b" });
    await checkRateLimit(req(), env, { ...alice, rateClass: "gold" });
    expect(free.keys).toEqual(["jwt:alice"]);
    expect(fallback.keys).toEqual(["key:b", "jwt:alice"]);
  });

  it("tells anonymous callers apart by client IP", () => {
    expect(rateLimitKey(ANONYMOUS_PRINCIPAL, req({ "cf-connecting-ip": "203.0.113.9" }))).toBe(
      "anonymous:203.0.113.9",
    );
    expect(rateLimitKey(ANONYMOUS_PRINCIPAL, req())).toBe("anonymous:unknown");
    expect(rateLimitKey(alice, req({ "cf-connecting-ip": "203.0.113.9" }))).toBe("jwt:alice");
  });

  it("lets the request through when the limiter itself fails", async () => {
    const broken: RateLimiter = { limit: () => Promise.reject(new Error("binding down")) };
    const errors: unknown[] = [];
    const original = console.error;
    console.error = (msg: unknown) => errors.push(msg);
    try {
      await enforceRateLimit(broken, "k", 60);
    } finally {
      console.error = original;
    }
    expect(errors).toHaveLength(1);
  });

  it("reads the period, 60 by default, 10 or 60 only", () => {
    expect(ratePeriodSeconds({})).toBe(60);
    expect(ratePeriodSeconds({ RATE_LIMIT_PERIOD_SECONDS: "10" })).toBe(10);
    expect(() => ratePeriodSeconds({ RATE_LIMIT_PERIOD_SECONDS: "30" })).toThrow(ConfigError);
  });
});
