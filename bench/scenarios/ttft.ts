/** Added time to first token: many short sequential streams, targets taken in turn. */
import { traceStream, ttftOf } from "../client.ts";
import type { StreamPlan } from "../plan.ts";
import { turnOrder } from "../random.ts";
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

/** How a TTFT scenario is run. */
export interface TtftOptions {
  readonly id: string;
  readonly title: string;
  readonly route: StreamRoute;
  readonly compare: Comparison;
  /** Measured streams per target. */
  readonly samples: number;
  /** Unmeasured streams per target first: JIT, connection pools, lazy module init. */
  readonly warmup: number;
}

/** One event then the end: the mock sends the first event with the response headers. */
const FIRST_EVENT_ONLY: StreamPlan = { events: 1, intervalMs: 0, padChars: 8 };

/**
 * TTFT = request start → first body bytes at the client. Targets alternate request by request,
 * so a slow moment of the machine lands on all of them alike rather than on one target's batch,
 * in a new order each round (`turnOrder`), so no target always follows the same one.
 */
export function ttftScenario(opts: TtftOptions): Scenario {
  return {
    id: opts.id,
    title: opts.title,
    async run(ctx: BenchContext) {
      const targets = compared(ctx, opts.compare);
      const turns = targets.map((t) => ({
        target: t,
        request: opts.route.request(t.kind, FIRST_EVENT_ONLY),
      }));
      const samples = new Map<string, number[]>(targets.map((t) => [t.id, []]));
      const failures = new Map<string, number>(targets.map((t) => [t.id, 0]));
      for (let i = 0; i < opts.warmup + opts.samples; i += 1) {
        for (const { target: t, request } of turnOrder(turns, i)) {
          const trace = await traceStream(ctx.agent, t.origin, request);
          const ttft = ttftOf(trace);
          if (trace.error !== undefined || ttft === undefined) {
            failures.set(t.id, (failures.get(t.id) ?? 0) + 1);
            continue;
          }
          if (i >= opts.warmup) samples.get(t.id)?.push(ttft);
        }
      }
      const by = new Map<string, Summary>([...samples].map(([id, s]) => [id, summarize(s)]));
      return {
        rows: [
          ...percentileRows("TTFT", by),
          ...addedRows("TTFT", by, opts.compare),
          ...deltaRows("TTFT", by, opts.compare),
        ],
        detail: {
          samples: opts.samples,
          summaries: Object.fromEntries(by),
          failures: Object.fromEntries(failures),
        },
      };
    },
  };
}
