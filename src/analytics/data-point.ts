import type { ClassifierSummary } from "./classifier-summary.ts";
import type { MetricsSnapshot } from "./stream-metrics.ts";

/**
 * 1-based blob positions of the per-stream data point: `blob${BLOB.model}` in SQL. Positions are a
 * storage contract (rows already written keep theirs): append new fields, never renumber.
 */
export const BLOB = {
  route: 1,
  provider: 2,
  model: 3,
  outcome: 4,
  guardrail: 5,
  colo: 6,
  country: 7,
  principal: 8,
  tokensSource: 9,
  streamId: 10,
  upstreamRequestId: 11,
  target: 12,
  continuedAfter: 13,
  classifierVerdict: 14,
} as const;

/** 1-based double positions of the per-stream data point: `double${DOUBLE.gatewayTtftMs}` in SQL. Append only. */
export const DOUBLE = {
  gatewayTtftMs: 1,
  upstreamTtftMs: 2,
  overheadMs: 3,
  holdbackMs: 4,
  durationMs: 5,
  outputTokens: 6,
  tokensPerSecond: 7,
  gapP50Ms: 8,
  gapMaxMs: 9,
  resumes: 10,
  bytesSent: 11,
  attempts: 12,
  hedged: 13,
  malformedEvents: 14,
  continuations: 15,
  classifierCalls: 16,
  classifierLatencyP50Ms: 17,
  classifierLatencyMaxMs: 18,
} as const;

/** Name of a blob field. */
export type BlobField = keyof typeof BLOB;
/** Name of a double field. */
export type DoubleField = keyof typeof DOUBLE;

/** Written in place of a measurement that never happened (no first token, fewer than two events). */
export const MISSING = -1;

/** The guardrail's verdict on a stream: "none", or an action and the rule that caused it. */
export type GuardrailVerdict = "none" | `${"flag" | "redact" | "block"}:${string}`;

/** What the caller knows about a stream besides its timings. */
export interface DataPointMeta {
  /** Route family and client format, `native/<format>` or `unified/<format>` (never the full URL). */
  readonly route: string;
  /** Provider name as configured, e.g. "openai". */
  readonly provider: string;
  /** Canonical `<provider>/<model>` (aliases resolved); also the index (Analytics Engine samples per index value). */
  readonly model: string;
  /** The guardrail's verdict, e.g. "none", "flag:email", "block:openai_key". */
  readonly guardrail: GuardrailVerdict;
  /** Cloudflare data centre (IATA code) from `request.cf.colo`; see `locationFromCf`. */
  readonly colo: string;
  /** Client country from `request.cf.country`. */
  readonly country: string;
  /** The caller's id (src/auth/principal.ts): "anonymous", `key:<name>` or `jwt:<hash>`. Never a key. */
  readonly principal: string;
  /** The stream's id (`x-stream-id`) when it is resumable; absent for direct streams. */
  readonly streamId?: string;
  /** The upstream's request id (`x-request-id` / `request-id`), when it sent one. */
  readonly upstreamRequestId?: string;
  /** The target that answered (`<provider>/<model>`), after retries and fallbacks. */
  readonly target?: string;
  /** Upstream attempts the answer took, the answering one included (1 when nothing was retried). */
  readonly attempts?: number;
  /** Whether the answer won a race started by the TTFT deadline. */
  readonly hedged?: boolean;
  /** Upstream events skipped because their data was not JSON (unified endpoint). */
  readonly malformedEvents?: number;
  /** Times the answer was continued from another attempt mid-stream, and the code of the last failure. */
  readonly continuations?: number;
  readonly continuedAfter?: string;
  /** The guardrail classifiers' calls, latency and worst verdict on this stream (absent: none ran). */
  readonly classifiers?: ClassifierSummary;
}

/** One Analytics Engine data point, assignable to the runtime's `AnalyticsEngineDataPoint`. */
export interface GatewayDataPoint {
  indexes: [string];
  blobs: string[];
  doubles: number[];
}

/** Written instead of a principal that is not a hash, so a raw key can never reach storage. */
export const UNHASHED_PRINCIPAL = "unhashed";
/** Written as the outcome of a point built before `StreamMetrics.end` (a caller bug, kept visible). */
export const UNENDED_OUTCOME = "unended";

/** Analytics Engine rejects an index over 96 bytes (limits page). */
const INDEX_MAX_BYTES = 96;
/**
 * Per-blob cap: 14 blobs x 256 bytes stays far below the 16 KB total (5120 bytes on older accounts),
 * and no legitimate value here (route, model, rule name, id) is longer.
 */
const BLOB_MAX_BYTES = 256;
/**
 * The principal ids src/auth/principal.ts gives: a gateway key's configured *name*, a JWT subject's
 * hash, or anonymous. Anything else might be a credential, so it is never written.
 */
const PRINCIPAL_PATTERN = /^(?:key:[A-Za-z0-9_.-]{1,64}|jwt:[0-9a-f]{32}|anonymous)$/;
/** How `request.cf` spells a colo or country: short alphanumerics; anything else is "unknown". */
const LOCATION_PATTERN = /^[A-Za-z0-9]{1,8}$/;
/**
 * A stream or request id worth storing: visible ASCII only (base64url stream ids, `req_...`, UUIDs).
 * The upstream's id comes from a response header, so anything else (spaces, controls) is not written.
 */
const ID_PATTERN = /^[\x21-\x7e]{1,256}$/;

const encoder = new TextEncoder();

/** Cuts `s` to at most `maxBytes` of UTF-8 without splitting a character. */
export function truncateUtf8(s: string, maxBytes: number): string {
  // No UTF-16 unit takes more than 3 bytes of UTF-8 (a surrogate pair, two units, takes 4): a short
  // string fits without being encoded, which is every blob of nearly every stream (an encode is a
  // call into the runtime, 15 per stream otherwise).
  if (s.length * 3 <= maxBytes) return s;
  const bytes = encoder.encode(s);
  if (bytes.length <= maxBytes) return s;
  let end = maxBytes;
  // Step back over continuation bytes (10xxxxxx) to the start of the character that was cut.
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end -= 1;
  return new TextDecoder().decode(bytes.subarray(0, end));
}

/** An id as a blob: "" when absent or not a plausible id, so the column is always a string. */
function idBlob(value: string | undefined): string {
  return value !== undefined && ID_PATTERN.test(value) ? value : "";
}

/** A measurement as a double: missing or non-finite values become MISSING (Analytics Engine stores no NaN). */
function measured(v: number | undefined): number {
  return v !== undefined && Number.isFinite(v) ? v : MISSING;
}

/** Places named values at their 1-based positions; the result has no holes. */
function positioned<K extends string, V>(positions: Readonly<Record<K, number>>, values: Record<K, V>): V[] {
  const out: V[] = [];
  for (const key of Object.keys(positions) as K[]) out[positions[key] - 1] = values[key];
  return out;
}

/**
 * Builds the stream's one data point. Blobs and doubles sit at the positions of `BLOB` and
 * `DOUBLE`; durations that never happened are -1 (0 is a real gap or rate), counters are 0.
 */
export function buildDataPoint(meta: DataPointMeta, metrics: MetricsSnapshot): GatewayDataPoint {
  const blobs: Record<BlobField, string> = {
    route: meta.route,
    provider: meta.provider,
    model: meta.model,
    outcome: metrics.outcome ?? UNENDED_OUTCOME,
    guardrail: meta.guardrail,
    colo: meta.colo,
    country: meta.country,
    principal: PRINCIPAL_PATTERN.test(meta.principal) ? meta.principal : UNHASHED_PRINCIPAL,
    tokensSource: metrics.tokensExact ? "exact" : "estimated",
    streamId: idBlob(meta.streamId),
    upstreamRequestId: idBlob(meta.upstreamRequestId),
    // The target that answered; the requested model when nothing answered (a lost stream).
    target: meta.target ?? meta.model,
    continuedAfter: meta.continuedAfter ?? "",
    classifierVerdict: meta.classifiers?.verdict ?? "none",
  };
  const doubles: Record<DoubleField, number> = {
    gatewayTtftMs: measured(metrics.gatewayTtftMs),
    upstreamTtftMs: measured(metrics.upstreamTtftMs),
    overheadMs: measured(metrics.overheadMs),
    holdbackMs: measured(metrics.holdbackMs),
    durationMs: measured(metrics.durationMs),
    outputTokens: measured(metrics.outputTokens),
    tokensPerSecond: measured(metrics.tokensPerSecond),
    gapP50Ms: measured(metrics.gapP50Ms),
    gapMaxMs: measured(metrics.gapMaxMs),
    resumes: measured(metrics.resumes),
    bytesSent: measured(metrics.bytesSent),
    attempts: meta.attempts ?? 1,
    hedged: meta.hedged === true ? 1 : 0,
    malformedEvents: meta.malformedEvents ?? 0,
    continuations: meta.continuations ?? 0,
    classifierCalls: meta.classifiers?.calls ?? 0,
    classifierLatencyP50Ms: measured(meta.classifiers?.latencyP50Ms),
    classifierLatencyMaxMs: measured(meta.classifiers?.latencyMaxMs),
  };
  return {
    indexes: [truncateUtf8(meta.model, INDEX_MAX_BYTES)],
    blobs: positioned(BLOB, blobs).map((b) => truncateUtf8(b, BLOB_MAX_BYTES)),
    doubles: positioned(DOUBLE, doubles),
  };
}

/**
 * The data point as named fields, for Workers Logs and `wrangler dev`: the same values, ids included
 * (`streamId`, `upstreamRequestId`, "" when absent), so a log line and a stored row name one stream.
 */
export type LogLine = { readonly event: "stream_metrics"; readonly index: string } & Readonly<
  Record<BlobField, string>
> &
  Readonly<Record<DoubleField, number>>;

/** Reads a data point back into named fields: the inverse of the positions. */
export function toLogLine(point: GatewayDataPoint): LogLine {
  const blobs = {} as Record<BlobField, string>;
  for (const key of Object.keys(BLOB) as BlobField[]) blobs[key] = point.blobs[BLOB[key] - 1] ?? "";
  const doubles = {} as Record<DoubleField, number>;
  for (const key of Object.keys(DOUBLE) as DoubleField[])
    doubles[key] = point.doubles[DOUBLE[key] - 1] ?? MISSING;
  return { event: "stream_metrics", index: point.indexes[0], ...blobs, ...doubles };
}

/** Reads `colo` and `country` from the untrusted `request.cf` object; "unknown" when absent or odd. */
export function locationFromCf(cf: unknown): { colo: string; country: string } {
  const record = typeof cf === "object" && cf !== null ? (cf as Record<string, unknown>) : {};
  const pick = (v: unknown): string => (typeof v === "string" && LOCATION_PATTERN.test(v) ? v : "unknown");
  return { colo: pick(record.colo), country: pick(record.country) };
}
