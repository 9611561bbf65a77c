/** Sequential streams over several series, taken in turn, and what is read off their traces. */
import { type StreamTrace, traceStream } from "../client.ts";
import type { StreamPlan } from "../plan.ts";
import { turnOrder } from "../random.ts";
import type { RouteRequest } from "../routes.ts";
import type { BenchContext } from "../scenario.ts";
import type { Target } from "../targets.ts";

/** One measured series: a target asked one way (one target may serve two series on two routes). */
export interface Series {
  readonly id: string;
  readonly target: Target;
  readonly request: RouteRequest;
}

/**
 * Streams `rounds` times per series, one stream at a time, series in turn (stream by stream, so a
 * slow moment of the machine lands on all of them alike rather than on one series' batch), in a new
 * order each round (`turnOrder`), so no series always follows the same one.
 */
export async function traceRounds(
  ctx: BenchContext,
  series: readonly Series[],
  rounds: number,
): Promise<Map<string, StreamTrace[]>> {
  const traces = new Map<string, StreamTrace[]>(series.map((s) => [s.id, []]));
  for (let i = 0; i < rounds; i += 1) {
    for (const s of turnOrder(series, i))
      traces.get(s.id)?.push(await traceStream(ctx.agent, s.target.origin, s.request));
  }
  return traces;
}

/** Every event's delay (arrival − the mock's send stamp), in ms, over all traces. */
export function eventDelays(traces: readonly StreamTrace[]): number[] {
  const out: number[] = [];
  for (const t of traces)
    for (const [k, at] of t.arrivals.entries()) out.push(at - (t.sent[k] ?? Number.NaN));
  return out;
}

/** Traces that failed or lost events: reported in the JSON, so a broken series cannot hide. */
export function incompleteCount(traces: readonly StreamTrace[], plan: StreamPlan): number {
  return traces.filter((t) => t.error !== undefined || t.arrivals.length !== plan.events).length;
}
