/**
 * Judges one probe: did the events arrive one by one, in bursts, all at the end, compressed, or was
 * the stream cut? Pure. Every comparison is relative to the first event on each clock, so the offset
 * between the gateway's clock and this machine's cancels out.
 */
import type { ProbeRecord, Problem, TimelinePoint, Verdict, VerdictKind } from "./types.ts";

/**
 * Two events "arrived together" when the gap between their arrivals is under this share of the gap
 * between their emissions. A healthy path keeps gaps within a few ms of the cadence (≥ 20 ms, see
 * args.ts); a buffer releases held events back to back, well under a quarter of it.
 */
export const TOGETHER_SHARE = 0.25;

/**
 * Coalescing needs this share of the gaps closed (and at least two): one event delayed by a GC pause
 * or a TCP retransmit merges one gap, which is noise, not a buffering layer.
 */
export const COALESCING_SHARE = 0.2;

/** A buffered stream's events arrive with its end; this much apart still counts as "with". */
const END_SLACK_MS = 100;

/** Events placed on both clocks; `heldMs` is measured against the least-delayed event. */
export function timeline(record: ProbeRecord): TimelinePoint[] {
  const events = [...record.events].sort((a, b) => a.seq - b.seq);
  const first = events[0];
  if (first === undefined) return [];
  const points = events.map((e) => ({
    seq: e.seq,
    emittedMs: e.sentAt - first.sentAt,
    arrivedMs: e.atMs - first.atMs,
  }));
  const minLag = Math.min(...points.map((p) => p.arrivedMs - p.emittedMs));
  return points.map((p) => ({ ...p, heldMs: Math.max(0, p.arrivedMs - p.emittedMs - minLag) }));
}

/** Sizes of the runs of events that arrived together, in order (all 1s on a streaming path). */
export function bursts(points: readonly TimelinePoint[]): number[] {
  const sizes: number[] = [];
  for (let i = 0; i < points.length; i++) {
    const p = points[i];
    const prev = points[i - 1];
    if (p === undefined) continue;
    const emitted = prev === undefined ? 0 : p.emittedMs - prev.emittedMs;
    const arrived = prev === undefined ? 0 : p.arrivedMs - prev.arrivedMs;
    const together = prev !== undefined && emitted > 0 && arrived < emitted * TOGETHER_SHARE;
    const last = sizes.length - 1;
    if (together && last >= 0) sizes[last] = (sizes[last] ?? 0) + 1;
    else sizes.push(1);
  }
  return sizes;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? 0;
}

function encodingOf(record: ProbeRecord): string | undefined {
  const enc = (record.headers["content-encoding"] ?? "").trim().toLowerCase();
  return enc === "" || enc === "identity" ? undefined : enc;
}

// The first problem in this order names the verdict: a cut or an error ends the stream, buffering
// defeats streaming outright, coalescing partly, and compression is a risk even when it flushes.
const PRIORITY: readonly VerdictKind[] = ["error", "cut", "buffered", "coalescing", "compressed"];

/** The verdict on one recorded probe. */
export function classify(record: ProbeRecord): Verdict {
  const points = timeline(record);
  const sizes = bursts(points);
  const problems: Problem[] = [];
  const received = points.length;
  const heldMs = Math.max(0, ...points.map((p) => p.heldMs));
  const error = record.inBandError ?? record.decodeError;
  if (error !== undefined) problems.push({ kind: "error", message: error });

  if (record.doneMs === undefined) {
    const lastActivity = Math.max(record.headersMs, record.lastByteMs ?? 0);
    const afterEvent = Math.max(0, ...record.events.map((e) => e.seq));
    const { pauseAtEvent, pauseMs } = record.spec;
    problems.push({
      kind: "cut",
      atMs: record.end.atMs,
      idleMs: Math.max(0, record.end.atMs - lastActivity),
      afterEvent,
      duringPause: pauseMs > 0 && afterEvent === pauseAtEvent - 1,
    });
  }

  // Fully buffered: every event in one burst, released when the response ended (with [DONE], or with
  // the cut). One burst long before the end is a buffer that flushed once, i.e. coalescing.
  // Three events at least: with two, "together" could be one unlucky gap.
  const lastArrival = Math.max(...record.events.map((e) => e.atMs));
  const endedAt = record.doneMs ?? record.end.atMs;
  const atTheEnd = endedAt - lastArrival <= Math.max(END_SLACK_MS, 2 * record.spec.intervalMs);
  if (received >= 3 && sizes.length === 1 && atTheEnd) {
    problems.push({
      kind: "buffered",
      heldMs,
      contentLength: record.headers["content-length"] !== undefined,
    });
  } else if (received >= 3) {
    const closedGaps = received - sizes.length;
    if (closedGaps >= Math.max(2, Math.ceil((received - 1) * COALESCING_SHARE))) {
      const grouped = sizes.filter((s) => s > 1);
      problems.push({
        kind: "coalescing",
        largestBurst: Math.max(...sizes),
        typicalBurst: median(grouped),
        bursts: grouped.length,
        heldMs,
      });
    }
  }

  const encoding = encodingOf(record);
  if (encoding !== undefined) problems.push({ kind: "compressed", encoding });

  const kind = PRIORITY.find((k) => problems.some((p) => p.kind === k)) ?? "streaming";
  const firstEvent = Math.min(...record.events.map((e) => e.atMs));
  return {
    kind,
    problems,
    timeline: points,
    bursts: sizes,
    received,
    expected: record.spec.events,
    keepAlives: record.keepAlives.length,
    ttfbMs: record.firstByteMs ?? record.headersMs,
    firstEventMs: Number.isFinite(firstEvent) ? firstEvent : undefined,
    heldMs,
  };
}

/** True when the verdict should fail a CI job: anything but a clean, uncompressed stream. */
export function isProblem(verdict: Verdict): boolean {
  return verdict.problems.length > 0;
}
