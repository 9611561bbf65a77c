import type { MetricsSnapshot } from "./stream-metrics.ts";

/**
 * Metric names (RFC 7230 tokens) and descriptions of the `server-timing` header, as browsers'
 * devtools show them. Cross-origin pages can read them only if the response also carries
 * `timing-allow-origin`.
 */
export const SERVER_TIMING_METRIC = {
  gateway: { name: "gateway", desc: "request received to upstream request sent" },
  upstreamConnect: { name: "upstream-connect", desc: "upstream request sent to upstream headers" },
} as const;

/** Word after the colon of the end-of-stream SSE comment: `: timings {...}`. */
export const TIMING_COMMENT_NAME = "timings";

/**
 * Timings known before the response body starts; an absent or undefined value is left out. A
 * `MetricsSnapshot` taken right after the upstream's headers is one: `serverTimingHeader(metrics.snapshot())`.
 */
export interface ServerTimingInput {
  /** Request received -> upstream request sent (see `MetricsSnapshot.preUpstreamMs`): the `gateway` metric. */
  readonly preUpstreamMs?: number | undefined;
  /** Upstream request sent -> upstream response headers (see `MetricsSnapshot.upstreamConnectMs`). */
  readonly upstreamConnectMs?: number | undefined;
}

/** Milliseconds as a plain decimal with at most one fraction digit (never exponent notation). */
function duration(ms: number): string {
  const clamped = Math.min(Math.max(ms, 0), 1e9);
  return String(Math.round(clamped * 10) / 10);
}

/**
 * The `server-timing` header value (W3C Server Timing: `name;dur=N;desc="..."`, comma separated),
 * or undefined when nothing is known, so the caller sets no empty header.
 */
export function serverTimingHeader(input: ServerTimingInput): string | undefined {
  const parts: string[] = [];
  const add = (metric: { readonly name: string; readonly desc: string }, ms: number | undefined): void => {
    if (ms === undefined || !Number.isFinite(ms)) return;
    // The descriptions are constants without quotes or backslashes, so the quoted-string needs no escaping.
    parts.push(`${metric.name};dur=${duration(ms)};desc="${metric.desc}"`);
  };
  add(SERVER_TIMING_METRIC.gateway, input.preUpstreamMs);
  add(SERVER_TIMING_METRIC.upstreamConnect, input.upstreamConnectMs);
  return parts.length > 0 ? parts.join(", ") : undefined;
}

/** A duration rounded to 0.1 ms for the client; undefined stays undefined (and is dropped by JSON). */
function rounded(ms: number | undefined): number | undefined {
  return ms === undefined || !Number.isFinite(ms) ? undefined : Math.round(ms * 10) / 10;
}

/**
 * The stream's timings as one SSE comment block, to enqueue just before the stream closes. Every
 * SSE client ignores comment lines, so no SDK breaks; JSON.stringify never emits a raw newline, so the
 * block is exactly one comment line plus the blank line. Fields never measured are left out.
 */
export function timingComment(metrics: MetricsSnapshot): string {
  const fields = {
    gatewayTtftMs: rounded(metrics.gatewayTtftMs),
    upstreamTtftMs: rounded(metrics.upstreamTtftMs),
    overheadMs: rounded(metrics.overheadMs),
    preUpstreamMs: rounded(metrics.preUpstreamMs),
    upstreamConnectMs: rounded(metrics.upstreamConnectMs),
    holdbackMs: rounded(metrics.holdbackMs),
    durationMs: rounded(metrics.durationMs),
    outputTokens: metrics.outputTokens,
    tokensSource: metrics.tokensExact ? "exact" : "estimated",
    tokensPerSecond: rounded(metrics.tokensPerSecond),
    gapP50Ms: rounded(metrics.gapP50Ms),
    gapMaxMs: rounded(metrics.gapMaxMs),
    resumes: metrics.resumes,
  };
  return `: ${TIMING_COMMENT_NAME} ${JSON.stringify(fields)}\n\n`;
}
