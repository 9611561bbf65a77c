import { describe, expect, it } from "vitest";
import { ANONYMOUS_PRINCIPAL } from "../../../src/auth/principal.ts";
import { checkRateLimit, limiterFor, localRateLimit, memoryLimiter } from "../../../src/auth/rate-limit.ts";
import { ConfigError } from "../../../src/errors.ts";
import { gatewayError, req } from "./support.ts";

/** A binding that must never be asked: LOCAL_RATE_LIMIT replaces the bindings. */
const untouchable: RateLimit = {
  limit: () => Promise.reject(new Error("the binding was called although LOCAL_RATE_LIMIT is set")),
};

describe("LOCAL_RATE_LIMIT (the in-memory limit of npm start)", () => {
  it("allows `limit` requests per key in each window and starts again in the next", async () => {
    let now = 60_000 * 100 + 59_000;
    const limiter = memoryLimiter(2, 60, () => now);
    expect((await limiter.limit("a")).success).toBe(true);
    expect((await limiter.limit("a")).success).toBe(true);
    expect((await limiter.limit("a")).success).toBe(false);
    expect((await limiter.limit("b")).success).toBe(true);
    now += 1_000; // the next minute begins
    expect((await limiter.limit("a")).success).toBe(true);
  });

  it("replaces the bindings when set, so the binding's own limit of 10 is not what counts", async () => {
    const env = { LOCAL_RATE_LIMIT: "12", RATE_LIMIT_ANONYMOUS: untouchable, RATE_LIMIT: untouchable };
    for (let i = 0; i < 12; i++) await checkRateLimit(req(), env, ANONYMOUS_PRINCIPAL);
    const err = await gatewayError(checkRateLimit(req(), env, ANONYMOUS_PRINCIPAL), 429);
    expect(err.headers).toMatchObject({ "retry-after": "60" });
  });

  it('means no limit at all when "0", and the bindings when unset', () => {
    expect(
      limiterFor({ LOCAL_RATE_LIMIT: "0", RATE_LIMIT: untouchable }, ANONYMOUS_PRINCIPAL),
    ).toBeUndefined();
    expect(limiterFor({ LOCAL_RATE_LIMIT: "", RATE_LIMIT: untouchable }, ANONYMOUS_PRINCIPAL)).toBeDefined();
    expect(localRateLimit({})).toBeUndefined();
    expect(localRateLimit({ LOCAL_RATE_LIMIT: "600" })).toBe(600);
  });

  it("is a configuration error naming the variable when it is not a whole number in range", () => {
    for (const bad of ["-1", "1.5", "many", "1000001"]) {
      expect(() => localRateLimit({ LOCAL_RATE_LIMIT: bad }), bad).toThrow(ConfigError);
      expect(() => localRateLimit({ LOCAL_RATE_LIMIT: bad }), bad).toThrow(/LOCAL_RATE_LIMIT/);
    }
  });
});
