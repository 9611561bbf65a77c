import { ConfigError, GatewayError } from "../errors.ts";
import { ERROR_CODE, HEADER } from "../protocol.ts";
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
/**
 * `wrangler dev` only: requests per principal per window, counted in the worker's memory instead of
 * by the bindings, whose limits live in wrangler.toml and whose local counts outlive restarts
 * (.wrangler/state). `npm start` sets a generous one. Exact in one local process; a deployed
 * worker runs in many isolates, so there only the bindings count (the config check refuses it for
 * a build or deploy).
 */
export const LOCAL_RATE_LIMIT_VAR = "LOCAL_RATE_LIMIT";
/** The largest local limit: far beyond any local use, small enough to stay an exact integer count. */
const MAX_LOCAL_LIMIT = 1_000_000;

/** The variables and bindings rate limiting reads; class bindings are looked up by name. */
export interface RateLimitEnv {
  readonly RATE_LIMIT?: RateLimit;
  readonly RATE_LIMIT_PERIOD_SECONDS?: string;
  /** Requests per principal per window, counted in memory (local runs); "0": no limit. */
  readonly LOCAL_RATE_LIMIT?: string;
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
 * A fixed-window counter in memory: at most `limit` calls per key in each `periodSeconds` window.
 * Only the current window's keys are kept, so memory is bounded by one window's callers.
 */
export function memoryLimiter(
  limit: number,
  periodSeconds: number,
  now: () => number = Date.now,
): RateLimiter {
  let window = -1;
  let counts = new Map<string, number>();
  return {
    limit(key) {
      const current = Math.floor(now() / (periodSeconds * 1000));
      if (current !== window) {
        window = current;
        counts = new Map();
      }
      const n = (counts.get(key) ?? 0) + 1;
      counts.set(key, n);
      return Promise.resolve({ success: n <= limit });
    },
  };
}

/** `LOCAL_RATE_LIMIT` parsed: undefined when unset (the bindings count), else requests per window. */
export function localRateLimit(env: RateLimitEnv): number | undefined {
  const raw = env.LOCAL_RATE_LIMIT;
  if (raw === undefined || raw === "") return undefined;
  const n = Number(raw);
  if (typeof raw !== "string" || !Number.isInteger(n) || n < 0 || n > MAX_LOCAL_LIMIT) {
    throw new ConfigError(`${LOCAL_RATE_LIMIT_VAR} must be an integer between 0 and ${MAX_LOCAL_LIMIT}`);
  }
  return n;
}

/** What `LOCAL_RATE_LIMIT` decided for an isolate: count in memory (`limiter`, none for "0"), or not. */
interface LocalChoice {
  readonly local: boolean;
  readonly limiter: RateLimiter | undefined;
}

// The env object is the same for every request of an isolate: one decision and one counter per isolate.
const localChoices = new WeakMap<RateLimitEnv, LocalChoice>();

function localChoice(env: RateLimitEnv): LocalChoice {
  let choice = localChoices.get(env);
  if (choice === undefined) {
    const limit = localRateLimit(env);
    choice =
      limit === undefined
        ? { local: false, limiter: undefined }
        : { local: true, limiter: limit === 0 ? undefined : memoryLimiter(limit, ratePeriodSeconds(env)) };
    localChoices.set(env, choice);
  }
  return choice;
}

/**
 * The limiter for a principal: `LOCAL_RATE_LIMIT`'s counter when set, else the binding of its rate
 * class if declared, else `RATE_LIMIT`, else none (no binding means no limit: gateways that rely on
 * other protection).
 */
export function limiterFor(env: RateLimitEnv, principal: Principal): RateLimiter | undefined {
  const local = localChoice(env);
  if (local.local) return local.limiter;
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
