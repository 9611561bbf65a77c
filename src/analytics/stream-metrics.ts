import type { StreamOutcome } from "../protocol.ts";
import { GapHistogram } from "./gap-histogram.ts";

/**
 * The computed timings of one stream. Durations are milliseconds; `undefined` means "never
 * happened" (no first token, no second content event), which the data point writes as -1.
 */
export interface MetricsSnapshot {
  /** How the stream ended; undefined while it is still running. */
  readonly outcome: StreamOutcome | undefined;
  /** Request received -> first content byte enqueued to the client (what the user waits for). */
  readonly gatewayTtftMs: number | undefined;
  /** Upstream request sent -> first content event received from the upstream (what the model costs). */
  readonly upstreamTtftMs: number | undefined;
  /** gatewayTtftMs - upstreamTtftMs: everything the gateway adds before the first token, holdback included. */
  readonly overheadMs: number | undefined;
  /**
   * Request received -> upstream request sent: what the gateway spends before the provider is asked
   * (body read, auth, rate limit, the hop to the stream's Durable Object). Known before the body starts.
   */
  readonly preUpstreamMs: number | undefined;
  /** Upstream request sent -> upstream response headers (connect + queueing at the provider). */
  readonly upstreamConnectMs: number | undefined;
  /** Total time the guardrail held text back from the client. */
  readonly holdbackMs: number;
  /** Request received -> end (or -> `now` when the snapshot is taken before the end). */
  readonly durationMs: number | undefined;
  /** Output tokens: the provider's usage count when it reported a credible one, else the sum of per-event estimates. */
  readonly outputTokens: number;
  /** True when `outputTokens` is the provider's usage count (see `StreamMetrics.usage` for when it is not used). */
  readonly tokensExact: boolean;
  /** Output tokens after the first content event per second of generation after it. */
  readonly tokensPerSecond: number | undefined;
  /** Median gap between consecutive upstream content events (nearest rank, see GapHistogram). */
  readonly gapP50Ms: number | undefined;
  /** Largest gap between consecutive upstream content events (exact). */
  readonly gapMaxMs: number | undefined;
  /** Number of upstream content events seen. */
  readonly contentEvents: number;
  /** Number of times a client resumed this stream. */
  readonly resumes: number;
  /** Bytes enqueued to the client(s). */
  readonly bytesSent: number;
}

/** Difference of two marks, clamped at 0 (wall clocks can step backwards); undefined if either is missing. */
function span(from: number | undefined, to: number | undefined): number | undefined {
  if (from === undefined || to === undefined) return undefined;
  return Math.max(0, to - from);
}

/** A count from a caller: only finite, non-negative values are meaningful. */
function amount(n: number): number {
  return Number.isFinite(n) && n > 0 ? n : 0;
}

/**
 * A pure recorder of one stream's timings. Every mark takes the time from the caller (so tests
 * drive it with synthetic clocks and the runtime decides which clock is honest, see
 * docs/analytics.md). Memory is constant in the stream's length. After `end`, every mark is
 * ignored: the data point describes the stream as it was when it ended.
 */
export class StreamMetrics {
  private received: number | undefined;
  private sent: number | undefined;
  private headers: number | undefined;
  private firstUpstream: number | undefined;
  private lastUpstream: number | undefined;
  private firstClient: number | undefined;
  private endedAt: number | undefined;
  private endOutcome: StreamOutcome | undefined;
  private heldBack = 0;
  private bytes = 0;
  private resumeCount = 0;
  private events = 0;
  /** Content events with an estimate above 0: each carried at least one real token. */
  private textEvents = 0;
  private estimatedTokens = 0;
  private firstEventTokens = 0;
  private exactTokens: number | undefined;
  private gapMax: number | undefined;
  private readonly gaps = new GapHistogram();

  /** True once `end` has been accepted. */
  get ended(): boolean {
    return this.endOutcome !== undefined;
  }

  /** The request reached the gateway (first call wins). */
  requestReceived(t: number): void {
    if (this.ended || this.received !== undefined) return;
    this.received = t;
  }

  /**
   * The upstream request was sent. A later call (a retry) replaces the earlier one until the first
   * content arrives, so upstream TTFT measures the attempt that answered and retries count as overhead.
   */
  upstreamSent(t: number): void {
    if (this.ended || this.firstUpstream !== undefined) return;
    this.sent = t;
    this.headers = undefined;
  }

  /** The upstream's response headers arrived (for the attempt last marked as sent). */
  upstreamHeaders(t: number): void {
    if (this.ended || this.firstUpstream !== undefined || this.headers !== undefined) return;
    this.headers = t;
  }

  /** The first upstream event carrying content arrived (first call wins; `contentEvent` also sets it). */
  firstUpstreamContent(t: number): void {
    if (this.ended || this.firstUpstream !== undefined) return;
    this.firstUpstream = t;
  }

  /**
   * One upstream event carrying content arrived, with an estimate of the tokens in it (`estimateTokens`).
   * Feeds the inter-token gap statistics (gap = time since the previous content event) and the token estimate.
   */
  contentEvent(t: number, approxTokens: number): void {
    if (this.ended) return;
    const tokens = amount(approxTokens);
    if (this.firstUpstream === undefined) this.firstUpstream = t;
    if (this.events === 0) this.firstEventTokens = tokens;
    if (this.lastUpstream !== undefined) {
      const gap = Math.max(0, t - this.lastUpstream);
      this.gaps.record(gap);
      this.gapMax = this.gapMax === undefined ? gap : Math.max(this.gapMax, gap);
    }
    this.lastUpstream = t;
    this.events += 1;
    if (tokens > 0) this.textEvents += 1;
    this.estimatedTokens += tokens;
  }

  /** The first content byte was enqueued to the client (first call wins). */
  firstClientContent(t: number): void {
    if (this.ended || this.firstClient !== undefined) return;
    this.firstClient = t;
  }

  /** The guardrail held text back for `ms` milliseconds (accumulates). */
  holdback(ms: number): void {
    if (this.ended) return;
    this.heldBack += amount(ms);
  }

  /** `n` bytes were enqueued to the client (accumulates). */
  bytesSent(n: number): void {
    if (this.ended) return;
    this.bytes += amount(n);
  }

  /** A client resumed the stream. */
  resume(): void {
    if (this.ended) return;
    this.resumeCount += 1;
  }

  /**
   * The provider reported the exact number of output tokens (last report wins). A count below the
   * number of events that carried text cannot be the stream's total (each such event is at least one
   * token): it is a placeholder or an early running count, such as the `output_tokens: 1` of
   * Anthropic's `message_start` on a stream cut before `message_delta`, so the estimate is used instead.
   */
  usage(outputTokens: number): void {
    if (this.ended || !Number.isFinite(outputTokens) || outputTokens < 0) return;
    this.exactTokens = outputTokens;
  }

  /**
   * The stream ended with `outcome`. Returns true the first time only, so the caller writes its one
   * data point exactly when this returns true, whichever path (complete, cancel, error) gets here first.
   */
  end(t: number, outcome: StreamOutcome): boolean {
    if (this.ended) return false;
    this.endedAt = t;
    this.endOutcome = outcome;
    return true;
  }

  /**
   * The computed timings. Before `end`, the duration runs to `now` when given (e.g. for a timing
   * comment written just before the stream closes), else it is undefined.
   */
  snapshot(now?: number): MetricsSnapshot {
    const gatewayTtftMs = span(this.received, this.firstClient);
    const upstreamTtftMs = span(this.sent, this.firstUpstream);
    const reported = this.exactTokens;
    const exact = reported !== undefined && reported >= this.textEvents;
    const outputTokens = exact ? reported : this.estimatedTokens;
    return {
      outcome: this.endOutcome,
      gatewayTtftMs,
      upstreamTtftMs,
      overheadMs:
        gatewayTtftMs === undefined || upstreamTtftMs === undefined
          ? undefined
          : Math.max(0, gatewayTtftMs - upstreamTtftMs),
      preUpstreamMs: span(this.received, this.sent),
      upstreamConnectMs: span(this.sent, this.headers),
      holdbackMs: this.heldBack,
      durationMs: span(this.received, this.endedAt ?? now),
      outputTokens,
      tokensExact: exact,
      tokensPerSecond: this.decodeRate(outputTokens),
      gapP50Ms: this.gaps.quantile(0.5),
      gapMaxMs: this.gapMax,
      contentEvents: this.events,
      resumes: this.resumeCount,
      bytesSent: this.bytes,
    };
  }

  /**
   * Tokens per second after the first token: the tokens that arrived after the first content event
   * over the time from the first to the last content event. The first event's tokens are excluded
   * because its arrival is the TTFT, not generation speed (n events 10 ms apart give exactly 100/s).
   */
  private decodeRate(outputTokens: number): number | undefined {
    const window = span(this.firstUpstream, this.lastUpstream);
    if (window === undefined || window <= 0 || this.events < 2) return undefined;
    const after = outputTokens - this.firstEventTokens;
    return after > 0 ? after / (window / 1000) : undefined;
  }
}
