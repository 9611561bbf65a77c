import { GatewayError } from "../errors.ts";
import { ERROR_CODE, HEADER } from "../protocol.ts";
import { ConfigError } from "../upstream/providers.ts";
import type { Principal } from "./principal.ts";

/** The port the gateway limits through; the Workers binding is one implementation, a test fake another. */
export interface RateLimiter {
  limit(key: string): Promise<{ readonly success: boolean }>;
}

/** The default binding, used by every principal whose class has no binding of its own. */
export const RATE_LIMIT_BINDING = "RATE_LIMIT";
/**
 * The binding does not report its window, so `retry-after` comes from this variable; it must match
 * `[ratelimits.simple] period`. Default 60: the longest period the binding allows, never too short.
 */
export const RATE_LIMIT_PERIOD_VAR = "RATE_LIMIT_PERIOD_SECONDS";
const PERIODS = new Set([10, 60]);

/** The variables and bindings rate limiting reads; class bindings are looked up by name. */
export interface RateLimitEnv {
  readonly RATE_LIMIT?: RateLimit;
  readonly RATE_LIMIT_PERIOD_SECONDS?: string;
}

function isRateLimit(v: unknown): v is RateLimit {
  return typeof v === "object" && v !== null && typeof (v as { limit?: unknown }).limit === "function";
}

/** Wraps the Workers rate-limiting binding as a `RateLimiter` (the only place that calls it). */
export function bindingLimiter(binding: RateLimit): RateLimiter {
  return { limit: (key) => binding.limit({ key }) };
}

/** `RATE_LIMIT_<CLASS>` for a rate class: `free` → `RATE_LIMIT_FREE`, `pro-plus` → `RATE_LIMIT_PRO_PLUS`. */
export function bindingNameFor(rateClass: string): string {
  return `${RATE_LIMIT_BINDING}_${rateClass.toUpperCase().replace(/-/g, "_")}`;
}

/**
 * The limiter for a principal: the binding of its rate class if declared, else `RATE_LIMIT`, else
 * none (no binding means no limit: local runs and gateways that rely on other protection).
 */
export function limiterFor(env: RateLimitEnv, principal: Principal): RateLimiter | undefined {
  const bindings = env as unknown as Readonly<Record<string, unknown>>;
  const own = principal.rateClass === undefined ? undefined : bindings[bindingNameFor(principal.rateClass)];
  const binding = isRateLimit(own) ? own : bindings[RATE_LIMIT_BINDING];
  return isRateLimit(binding) ? bindingLimiter(binding) : undefined;
}

/** The configured window in seconds (10 or 60). */
export function ratePeriodSeconds(env: RateLimitEnv): number {
  const raw = env.RATE_LIMIT_PERIOD_SECONDS;
  if (raw === undefined || raw === "") return 60;
  const n = Number(raw);
  if (!PERIODS.has(n)) throw new ConfigError(`${RATE_LIMIT_PERIOD_VAR} must be 10 or 60`);
  return n;
}

/**
 * What the limiter counts under: the principal id, except for anonymous callers, who share one
 * principal and are told apart by client IP (Cloudflare sets `cf-connecting-ip`, callers cannot).
 */
export function rateLimitKey(principal: Principal, request: Request): string {
  if (principal.kind !== "anonymous") return principal.id;
  return `anonymous:${request.headers.get("cf-connecting-ip") ?? "unknown"}`;
}

/**
 * Counts one request against `key`; throws a 429 with `retry-after` when over the limit. A limiter
 * that fails is treated as allowing the request: the binding is approximate by design, and an
 * outage of it should not take the gateway down with it.
 */
export async function enforceRateLimit(
  limiter: RateLimiter | undefined,
  key: string,
  periodSeconds: number,
): Promise<void> {
  if (limiter === undefined) return;
  let success: boolean;
  try {
    ({ success } = await limiter.limit(key));
  } catch (err) {
    console.error(JSON.stringify({ msg: "rate limiter failed", error: String(err) }));
    return;
  }
  if (!success) {
    throw new GatewayError(
      429,
      ERROR_CODE.rateLimited,
      `rate limit exceeded for this caller; retry after ${periodSeconds} seconds`,
      { [HEADER.retryAfter]: String(periodSeconds) },
    );
  }
}

/** One call at the edge: limits `principal`'s request with its class's binding, if any. */
export function checkRateLimit(request: Request, env: RateLimitEnv, principal: Principal): Promise<void> {
  return enforceRateLimit(
    limiterFor(env, principal),
    rateLimitKey(principal, request),
    ratePeriodSeconds(env),
  );
}
