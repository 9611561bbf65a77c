/** The longest wait between two attempts on the same target, whatever the exponent says. */
export const MAX_BACKOFF_MS = 4000;

/**
 * The wait before retry number `retry` (1 for the first retry) on the same target: `baseMs` doubled
 * per retry, with full jitter between half and one and a half of it (so clients that failed together
 * do not retry together), capped at MAX_BACKOFF_MS.
 */
export function backoffMs(retry: number, baseMs: number, random: () => number = Math.random): number {
  const exponential = baseMs * 2 ** Math.max(0, retry - 1);
  return Math.min(MAX_BACKOFF_MS, Math.round(exponential * (0.5 + random())));
}

/**
 * A `retry-after` value in milliseconds: delay-seconds or an HTTP date (RFC 9110 §10.2.3); undefined
 * when absent or unreadable. A date in the past is 0.
 */
export function retryAfterMs(value: string | undefined, now: number = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d{1,9}$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/** Resolves after `ms`, or at once when `signal` aborts (the client left: no point waiting). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0 || signal?.aborted === true) return resolve();
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
