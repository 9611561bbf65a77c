/** Added per-event delay: paced streams, each event stamped by the mock when it was written. */
import { traceStream } from "../client.ts";
import { withinFactor } from "../goals.ts";
import type { StreamPlan } from "../plan.ts";
import type { StreamRoute } from "../routes.ts";
import {
  addedRows,
  type BenchContext,
  type Comparison,
  compared,
  percentileRows,
  type Scenario,
} from "../scenario.ts";
import { type Summary, summarize } from "../stats.ts";

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
      const targets = compared(ctx, opts.compare);
      const delays = new Map<string, number[]>(targets.map((t) => [t.id, []]));
      const incomplete = new Map<string, number>(targets.map((t) => [t.id, 0]));
      for (let i = 0; i < opts.streams; i += 1) {
        for (const t of targets) {
          const trace = await traceStream(ctx.agent, t.origin, opts.route.request(t.kind, opts.plan));
          if (trace.error !== undefined || trace.arrivals.length !== opts.plan.events) {
            incomplete.set(t.id, (incomplete.get(t.id) ?? 0) + 1);
          }
          const out = delays.get(t.id);
          for (const [k, at] of trace.arrivals.entries()) out?.push(at - (trace.sent[k] ?? Number.NaN));
        }
      }
      const by = new Map<string, Summary>([...delays].map(([id, s]) => [id, summarize(s)]));
      return {
        rows: [
          ...percentileRows("event delay", by),
          ...addedRows("event delay", by, opts.compare, (s, r) => withinFactor(s, r, 1.5)),
        ],
        detail: {
          plan: opts.plan,
          streams: opts.streams,
          summaries: Object.fromEntries(by),
          incomplete: Object.fromEntries(incomplete),
        },
      };
    },
  };
}
