/** Single-stream throughput: one long stream of small events with no spacing. */
import { traceStream } from "../client.ts";
import type { StreamPlan } from "../plan.ts";
import { turnOrder } from "../random.ts";
import type { StreamRoute } from "../routes.ts";
import { type BenchContext, type Comparison, compared, type Scenario } from "../scenario.ts";
import { median } from "../stats.ts";

/** How a throughput scenario is run. */
export interface ThroughputOptions {
  readonly id: string;
  readonly title: string;
  readonly route: StreamRoute;
  readonly compare: Comparison;
  readonly plan: StreamPlan;
  /** Streams per target, targets in turn; the median rate is reported. */
  readonly repeats: number;
}

/**
 * Events/s = content events ÷ (last event's arrival − request start). The mock writes as fast as
 * its socket drains, so the slowest hop (client, worker or mock) sets the rate; the direct
 * column shows the ceiling the client and mock alone reach on this machine.
 */
export function throughputScenario(opts: ThroughputOptions): Scenario {
  return {
    id: opts.id,
    title: opts.title,
    async run(ctx: BenchContext) {
      const targets = compared(ctx, opts.compare);
      const rates = new Map<string, number[]>(targets.map((t) => [t.id, []]));
      const incomplete = new Map<string, number>(targets.map((t) => [t.id, 0]));
      for (let i = 0; i < opts.repeats; i += 1) {
        for (const t of turnOrder(targets, i)) {
          const trace = await traceStream(ctx.agent, t.origin, opts.route.request(t.kind, opts.plan));
          const last = trace.arrivals[trace.arrivals.length - 1];
          if (trace.error !== undefined || trace.arrivals.length !== opts.plan.events || last === undefined) {
            incomplete.set(t.id, (incomplete.get(t.id) ?? 0) + 1);
            continue;
          }
          rates.get(t.id)?.push((trace.arrivals.length * 1000) / (last - trace.startMs));
        }
      }
      const values = Object.fromEntries(
        [...rates].map(([id, r]) => [id, r.length > 0 ? median(r) : undefined]),
      );
      return {
        rows: [
          {
            metric: `events/s (${opts.plan.events} events, median of ${opts.repeats})`,
            unit: "events/s",
            values,
          },
        ],
        detail: {
          plan: opts.plan,
          rates: Object.fromEntries(rates),
          incomplete: Object.fromEntries(incomplete),
        },
      };
    },
  };
}
