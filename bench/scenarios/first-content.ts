/**
 * Time to first content on a paced stream: what a held-back window adds (issue 5's `enforce`
 * mode) shows only when the text after the first token arrives over time, as tokens do. A
 * one-event stream (the TTFT scenario) releases everything at its end and hides it.
 */
import { firstContentOf } from "../client.ts";
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

/** How a first-content scenario is run. */
export interface FirstContentOptions {
  readonly id: string;
  readonly title: string;
  readonly route: StreamRoute;
  readonly compare: Comparison;
  readonly plan: StreamPlan;
  /** Measured streams per target, after `warmup` unmeasured ones; targets in turn. */
  readonly streams: number;
  readonly warmup: number;
}

/**
 * First content = request start → arrival of the first stamped event (not merely the first
 * bytes: a gateway may send headers or comments before it). Also reports these streams' per-event
 * delay, which in `enforce` mode is how long the window holds each token.
 */
export function firstContentScenario(opts: FirstContentOptions): Scenario {
  return {
    id: opts.id,
    title: opts.title,
    async run(ctx: BenchContext) {
      const series = compared(ctx, opts.compare).map((t) => ({
        id: t.id,
        target: t,
        request: opts.route.request(t.kind, opts.plan),
      }));
      await traceRounds(ctx, series, opts.warmup);
      const traces = await traceRounds(ctx, series, opts.streams);
      const first = new Map<string, Summary>(
        [...traces].map(([id, tr]) => [
          id,
          summarize(tr.flatMap((t) => firstContentOf(t) ?? []).filter((ms) => !Number.isNaN(ms))),
        ]),
      );
      const delay = new Map<string, Summary>([...traces].map(([id, tr]) => [id, summarize(eventDelays(tr))]));
      const delayRows = percentileRows("event delay", delay).map((r) => ({
        ...r,
        metric: `${r.metric} (same streams)`,
      }));
      return {
        rows: [
          ...percentileRows("first content", first),
          ...addedRows("first content", first, opts.compare),
          ...deltaRows("first content", first, opts.compare),
          ...delayRows,
        ],
        detail: {
          plan: opts.plan,
          streams: opts.streams,
          firstContent: Object.fromEntries(first),
          eventDelay: Object.fromEntries(delay),
          incomplete: Object.fromEntries([...traces].map(([id, tr]) => [id, incompleteCount(tr, opts.plan)])),
        },
      };
    },
  };
}
