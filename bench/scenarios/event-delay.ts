/** Added per-event delay: paced streams, each event stamped by the mock when it was written. */
import type { StreamPlan } from "../plan.ts";
import type { StreamRoute } from "../routes.ts";
import {
  addedRows,
  type BenchContext,
  type Comparison,
  compared,
  deltaRows,
  percentileRows,
  type Scenario,
} from "../scenario.ts";
import { type Summary, summarize } from "../stats.ts";
import { eventDelays, incompleteCount, traceRounds } from "./series.ts";

/** How a per-event delay scenario is run. */
export interface EventDelayOptions {
  readonly id: string;
  readonly title: string;
  readonly route: StreamRoute;
  readonly compare: Comparison;
  readonly plan: StreamPlan;
  /** Measured streams per target, one at a time, targets in turn. */
  readonly streams: number;
}

/**
 * Delay of an event = its arrival at the client − the mock's stamp of when it wrote it. Each
 * stream runs alone, so this is the unloaded cost of each hop; targets alternate stream by stream.
 */
export function eventDelayScenario(opts: EventDelayOptions): Scenario {
  return {
    id: opts.id,
    title: opts.title,
    async run(ctx: BenchContext) {
      const series = compared(ctx, opts.compare).map((t) => ({
        id: t.id,
        target: t,
        request: opts.route.request(t.kind, opts.plan),
      }));
      const traces = await traceRounds(ctx, series, opts.streams);
      const by = new Map<string, Summary>([...traces].map(([id, tr]) => [id, summarize(eventDelays(tr))]));
      return {
        rows: [
          ...percentileRows("event delay", by),
          ...addedRows("event delay", by, opts.compare),
          ...deltaRows("event delay", by, opts.compare),
        ],
        detail: {
          plan: opts.plan,
          streams: opts.streams,
          summaries: Object.fromEntries(by),
          incomplete: Object.fromEntries([...traces].map(([id, tr]) => [id, incompleteCount(tr, opts.plan)])),
        },
      };
    },
  };
}
