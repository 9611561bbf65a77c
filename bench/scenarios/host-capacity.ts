/**
 * Issue 17: how many events per second one stream host (one Durable Object holding many streams)
 * carries. An object runs one request at a time on one thread, so this is the ceiling of one host's
 * streams together: `STREAM_HOSTS` must give a colo's streams enough hosts that none reaches it.
 */
import { traceStream } from "../client.ts";
import type { StreamPlan } from "../plan.ts";
import type { StreamRoute } from "../routes.ts";
import { type BenchContext, pause, type Row, type Scenario, targetOf } from "../scenario.ts";

/** How the capacity scenario is run. */
export interface HostCapacityOptions {
  readonly id: string;
  readonly title: string;
  readonly route: StreamRoute;
  /** The gateway with every stream on one host (`STREAM_HOSTS=1`), and the plain gateway for reference. */
  readonly host: string;
  readonly reference: string;
  /** Streams at once, each written as fast as the socket takes it. */
  readonly streams: number;
  readonly plan: StreamPlan;
  readonly repeats: number;
}

/** Events delivered ÷ (last stream done − start), for `streams` unpaced streams opened at once. */
async function eventsPerSecond(ctx: BenchContext, id: string, opts: HostCapacityOptions): Promise<number> {
  const t = targetOf(ctx, id);
  const req = opts.route.request(t.kind, opts.plan);
  const runs: number[] = [];
  for (let r = 0; r < opts.repeats; r++) {
    const start = performance.now();
    const traces = await Promise.all(
      Array.from({ length: opts.streams }, () => traceStream(ctx.agent, t.origin, req)),
    );
    const seconds = (performance.now() - start) / 1000;
    const delivered = traces.reduce((n, tr) => n + tr.arrivals.length, 0);
    runs.push(delivered / seconds);
    await pause(500);
  }
  runs.sort((a, b) => a - b);
  return runs[Math.floor(runs.length / 2)] ?? Number.NaN;
}

export function hostCapacityScenario(opts: HostCapacityOptions): Scenario {
  return {
    id: opts.id,
    title: opts.title,
    async run(ctx: BenchContext) {
      const host = await eventsPerSecond(ctx, opts.host, opts);
      const reference = await eventsPerSecond(ctx, opts.reference, opts);
      const rows: Row[] = [
        {
          metric: `events/s, ${opts.streams} streams at once (median of ${opts.repeats})`,
          unit: "events/s",
          values: { [opts.host]: host, [opts.reference]: reference },
          note: `${opts.host}: every stream in one object; ${opts.reference}: no object`,
        },
      ];
      return { rows, detail: { streams: opts.streams, plan: opts.plan, repeats: opts.repeats } };
    },
  };
}
