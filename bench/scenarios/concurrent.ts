/** Many concurrent paced streams: does every stream finish, and does any stall? */
import { type StreamTrace, traceStream, ttftOf, worstGapOf } from "../client.ts";
import { noStalls, withinFactor } from "../goals.ts";
import { cpuSeconds } from "../load.ts";
import type { StreamPlan } from "../plan.ts";
import { RssSampler, readMemory } from "../proc.ts";
import { turnOrder } from "../random.ts";
import type { StreamRoute } from "../routes.ts";
import { type BenchContext, type Comparison, compared, pause, type Row, type Scenario } from "../scenario.ts";
import { median, type Summary, summarize } from "../stats.ts";
import type { Target } from "../targets.ts";

/** How a concurrency scenario is run. */
export interface ConcurrentOptions {
  readonly id: string;
  readonly title: string;
  readonly route: StreamRoute;
  readonly compare: Comparison;
  readonly plan: StreamPlan;
  /** Streams opened at once against each target. */
  readonly streams: number;
  /**
   * Times each target is loaded, the targets in a new order each round (`turnOrder`). One load's
   * last-done time and worst gap move by more than issue 17's margins from run to run, so the rows
   * give the median round's figures (and the worst round's gap beside them).
   */
  readonly rounds: number;
  /** A stream silent this long (between two events) counts as stalled. */
  readonly stallMs: number;
  /**
   * Issue 17: the target run as wrangler.toml configures it, judged against the subject: every stream
   * complete with no gap of `gapMs`, and its last stream done and CPU per event within `factor`.
   */
  readonly defaults?: { readonly id: string; readonly gapMs: number; readonly factor: number };
}

/** What one target did under load. */
interface LoadOutcome {
  readonly completed: number;
  readonly ttft: Summary;
  readonly worstGapMs: number;
  readonly delay: Summary;
  readonly wallMs: number;
  readonly rssBeforeMiB: number | undefined;
  readonly rssPeakMiB: number | undefined;
  /** The target's workerd CPU time over the run, per event delivered (µs); undefined without a pid. */
  readonly cpuPerEventUs: number | undefined;
  readonly errors: Readonly<Record<string, number>>;
}

function outcome(
  traces: readonly StreamTrace[],
  plan: StreamPlan,
  wallMs: number,
): Omit<LoadOutcome, "rssBeforeMiB" | "rssPeakMiB" | "cpuPerEventUs"> {
  const ttfts: number[] = [];
  const delays: number[] = [];
  const errors: Record<string, number> = {};
  let completed = 0;
  let worstGapMs = 0;
  for (const tr of traces) {
    const ttft = ttftOf(tr);
    if (ttft !== undefined) ttfts.push(ttft);
    for (const [k, at] of tr.arrivals.entries()) delays.push(at - (tr.sent[k] ?? Number.NaN));
    worstGapMs = Math.max(worstGapMs, worstGapOf(tr));
    if (tr.error === undefined && tr.arrivals.length === plan.events) completed += 1;
    else {
      const why = tr.error ?? `${tr.arrivals.length}/${plan.events} events`;
      errors[why] = (errors[why] ?? 0) + 1;
    }
  }
  return { completed, ttft: summarize(ttfts), worstGapMs, delay: summarize(delays), wallMs, errors };
}

/** Loads one target with `opts.streams` streams at once, reading its workerd's memory and CPU meanwhile. */
async function load(ctx: BenchContext, t: Target, opts: ConcurrentOptions): Promise<LoadOutcome> {
  const req = opts.route.request(t.kind, opts.plan);
  const rssBeforeMiB = t.pid === undefined ? undefined : readMemory(t.pid)?.rssMiB;
  const sampler = t.pid === undefined ? undefined : new RssSampler(t.pid);
  const cpuBefore = t.pid === undefined ? undefined : cpuSeconds(t.pid);
  const start = performance.now();
  const traces = await Promise.all(
    Array.from({ length: opts.streams }, () => traceStream(ctx.agent, t.origin, req)),
  );
  const wallMs = performance.now() - start;
  const rssPeakMiB = sampler?.stop();
  const events = opts.streams * opts.plan.events;
  const cpuPerEventUs =
    t.pid === undefined || cpuBefore === undefined
      ? undefined
      : ((cpuSeconds(t.pid) - cpuBefore) / events) * 1e6;
  return { ...outcome(traces, opts.plan, wallMs), rssBeforeMiB, rssPeakMiB, cpuPerEventUs };
}

/** The median of defined values; undefined when there are none. */
function medianOf(values: readonly (number | undefined)[]): number | undefined {
  const defined = values.filter((v): v is number => v !== undefined);
  return defined.length === 0 ? undefined : median(defined);
}

/** Rounds' summaries as one: every sample counted, the extremes of all, the median round's percentiles and mean. */
function combineSummaries(all: readonly Summary[]): Summary {
  const at = (f: (s: Summary) => number) => medianOf(all.map(f)) ?? Number.NaN;
  return {
    n: all.reduce((a, s) => a + s.n, 0),
    min: Math.min(...all.map((s) => s.min)),
    p50: at((s) => s.p50),
    p90: at((s) => s.p90),
    p99: at((s) => s.p99),
    max: Math.max(...all.map((s) => s.max)),
    mean: at((s) => s.mean),
  };
}

/** One target's rounds as one outcome, with the worst round's gap beside the median round's. */
type Combined = LoadOutcome & { readonly worstRoundGapMs: number };

/**
 * One target's rounds as one outcome: the fewest streams completed, the median of the rest (the
 * worst gap too, with the worst round's beside it), the first round's memory before and the highest
 * peak, every round's errors added up.
 */
function combine(rounds: readonly LoadOutcome[]): Combined {
  const errors: Record<string, number> = {};
  for (const r of rounds)
    for (const [why, n] of Object.entries(r.errors)) errors[why] = (errors[why] ?? 0) + n;
  const peaks = rounds.map((r) => r.rssPeakMiB).filter((v): v is number => v !== undefined);
  return {
    completed: Math.min(...rounds.map((r) => r.completed)),
    ttft: combineSummaries(rounds.map((r) => r.ttft)),
    worstGapMs: medianOf(rounds.map((r) => r.worstGapMs)) ?? Number.NaN,
    worstRoundGapMs: Math.max(...rounds.map((r) => r.worstGapMs)),
    delay: combineSummaries(rounds.map((r) => r.delay)),
    wallMs: medianOf(rounds.map((r) => r.wallMs)) ?? Number.NaN,
    rssBeforeMiB: rounds[0]?.rssBeforeMiB,
    rssPeakMiB: peaks.length === 0 ? undefined : Math.max(...peaks),
    cpuPerEventUs: medianOf(rounds.map((r) => r.cpuPerEventUs)),
    errors,
  };
}

/**
 * Opens `streams` streams at once on each target in turn (never two targets at a time: on two
 * cores they would starve each other), sampling the target's workerd memory meanwhile; `rounds`
 * times, in a new order each round.
 */
export function concurrentScenario(opts: ConcurrentOptions): Scenario {
  return {
    id: opts.id,
    title: opts.title,
    async run(ctx: BenchContext) {
      const targets = compared(ctx, opts.compare);
      const byTarget = new Map<string, LoadOutcome[]>(targets.map((t) => [t.id, []]));
      for (let round = 0; round < opts.rounds; round += 1) {
        for (const t of turnOrder(targets, round)) {
          const o = await load(ctx, t, opts);
          byTarget.get(t.id)?.push(o);
          ctx.log(
            `  round ${round + 1}/${opts.rounds}, ${t.id}: ${o.completed}/${opts.streams} complete in ${o.wallMs.toFixed(0)} ms, worst gap ${o.worstGapMs.toFixed(0)} ms`,
          );
          // Let closed connections and the runtime's garbage settle before the next target.
          await pause(1000);
        }
      }
      const results = new Map([...byTarget].map(([id, rounds]) => [id, combine(rounds)]));
      const col = (f: (o: Combined) => number | undefined) =>
        Object.fromEntries([...results].map(([id, o]) => [id, f(o)]));
      const subject = results.get(opts.compare.subject);
      // Issue 17's goals for the default configuration, against the plain gateway.
      const dflt = opts.defaults === undefined ? undefined : results.get(opts.defaults.id);
      const cpuGoal =
        dflt === undefined || subject === undefined || opts.defaults === undefined
          ? undefined
          : withinFactor(
              dflt.cpuPerEventUs ?? Number.NaN,
              subject.cpuPerEventUs ?? Number.NaN,
              opts.defaults.factor,
              {
                subject: opts.defaults.id,
                reference: opts.compare.subject,
              },
              "µs",
            );
      const rows: Row[] = [
        {
          metric: `streams completed (of ${opts.streams})`,
          unit: "streams",
          values: col((o) => o.completed),
          ...(subject === undefined
            ? {}
            : {
                goal: noStalls(
                  opts.compare.subject,
                  subject.completed,
                  opts.streams,
                  subject.worstGapMs,
                  opts.stallMs,
                ),
              }),
        },
        { metric: "TTFT p50 under load", unit: "ms", values: col((o) => o.ttft.p50) },
        { metric: "TTFT p99 under load", unit: "ms", values: col((o) => o.ttft.p99) },
        { metric: "worst inter-event gap", unit: "ms", values: col((o) => o.worstGapMs) },
        {
          metric: "worst inter-event gap, worst round",
          unit: "ms",
          values: col((o) => o.worstRoundGapMs),
          note: `the rows above and below: the median of ${opts.rounds} rounds`,
        },
        {
          metric: `last stream done after (ideal ≈ ${opts.plan.events * opts.plan.intervalMs} ms)`,
          unit: "ms",
          values: col((o) => o.wallMs),
        },
        { metric: "event delay p99 under load", unit: "ms", values: col((o) => o.delay.p99) },
        ...(dflt === undefined || subject === undefined || opts.defaults === undefined
          ? []
          : [
              {
                metric: `${opts.defaults.id}: streams completed, worst gap`,
                unit: "streams" as const,
                values: { [opts.defaults.id]: dflt.completed },
                goal: noStalls(
                  opts.defaults.id,
                  dflt.completed,
                  opts.streams,
                  dflt.worstGapMs,
                  opts.defaults.gapMs,
                ),
              },
              {
                metric: `${opts.defaults.id}: last stream done after`,
                unit: "ms" as const,
                values: { [opts.defaults.id]: dflt.wallMs },
                goal: withinFactor(dflt.wallMs, subject.wallMs, opts.defaults.factor, {
                  subject: opts.defaults.id,
                  reference: opts.compare.subject,
                }),
              },
            ]),
        {
          metric: "workerd CPU per event",
          unit: "µs",
          values: col((o) => o.cpuPerEventUs),
          ...(cpuGoal === undefined ? {} : { goal: cpuGoal }),
        },
        { metric: "workerd RSS before load", unit: "MiB", values: col((o) => o.rssBeforeMiB) },
        { metric: "workerd peak RSS under load", unit: "MiB", values: col((o) => o.rssPeakMiB) },
      ];
      return {
        rows,
        detail: {
          plan: opts.plan,
          streams: opts.streams,
          rounds: opts.rounds,
          outcomes: Object.fromEntries(results),
          perRound: Object.fromEntries(byTarget),
        },
      };
    },
  };
}
