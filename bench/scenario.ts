/** What a benchmark scenario is, what it reports, and helpers shared by the scenarios. */
import type { Agent } from "undici";
import { type GoalVerdict, withinFactor, withinMs } from "./goals.ts";
import type { Summary } from "./stats.ts";
import type { Target } from "./targets.ts";

/** Units a row may be in; they decide how the table prints its numbers. */
export type Unit = "ms" | "µs" | "events/s" | "MiB" | "MB/s" | "streams" | "rows";

/**
 * One line of the table: a metric, its value per target id, and the goal it is judged by, if any
 * (else an optional note, printed in the same column: what the figure is next to, or how it was got).
 */
export interface Row {
  readonly metric: string;
  readonly unit: Unit;
  readonly values: Readonly<Record<string, number | undefined>>;
  readonly goal?: GoalVerdict;
  readonly note?: string;
}

/** What a scenario hands back: table rows, and full detail for the JSON file. */
export interface ScenarioResult {
  readonly rows: readonly Row[];
  readonly detail: Readonly<Record<string, unknown>>;
}

/** Everything a scenario may use. */
export interface BenchContext {
  readonly agent: Agent;
  /** Every started target by id. */
  readonly targets: ReadonlyMap<string, Target>;
  /** The mock upstream, for a scenario that starts a target of its own. */
  readonly mockOrigin: string;
  log(line: string): void;
}

/** One block of the table. New rows are new entries in bench/suite.ts. */
export interface Scenario {
  readonly id: string;
  readonly title: string;
  run(ctx: BenchContext): Promise<ScenarioResult>;
}

/**
 * A "difference over one target" row: every target's percentile minus `over`'s (the baseline
 * cancels out, so this is also the difference of their added figures). With `goal`, the row
 * judges `goal.subject − over ≤ goal.boundMs`; `note` says what the row shows.
 */
export interface DeltaSpec {
  readonly over: string;
  readonly quantile: "p50" | "p99";
  /** Only these targets' columns (default: every target but the baseline and `over`). */
  readonly columns?: readonly string[];
  readonly goal?: { readonly subject: string; readonly boundMs: number };
  readonly note?: string;
}

/**
 * Which targets a scenario runs on: `baseline` is subtracted to get "added" figures, `subject`'s
 * added cost is judged against `reference`'s when `factor` is set (subject ≤ factor ×
 * reference), `also` are measured beside them, and `deltas` add rows of differences over one
 * target (issues 4 and 5 judge absolute budgets).
 */
export interface Comparison {
  readonly baseline: string;
  readonly reference: string;
  readonly also: readonly string[];
  readonly subject: string;
  readonly factor?: number;
  readonly deltas?: readonly DeltaSpec[];
}

/**
 * The core issue's comparison: the gateway against the minimal passthrough, both over direct,
 * with the one-JS-stage calibration worker beside them.
 */
export const GATEWAY_VS_PASSTHROUGH: Comparison = {
  baseline: "direct",
  reference: "passthrough",
  also: ["js-stage"],
  subject: "gateway",
  factor: 1.5,
};

/** A started target by id; a typo in bench/suite.ts fails the run at once. */
export function targetOf(ctx: BenchContext, id: string): Target {
  const t = ctx.targets.get(id);
  if (t === undefined) throw new Error(`bench: no target "${id}" was started`);
  return t;
}

/** The comparison's targets, in column order (a sequential scenario shuffles it each round: `turnOrder`). */
export function compared(ctx: BenchContext, cmp: Comparison): Target[] {
  return [cmp.baseline, cmp.reference, ...cmp.also, cmp.subject].map((id) => targetOf(ctx, id));
}

/** Absolute p50/p99 rows, one value per target. */
export function percentileRows(metric: string, by: ReadonlyMap<string, Summary>): Row[] {
  const pick = (q: "p50" | "p99") => Object.fromEntries([...by].map(([id, s]) => [id, s[q]]));
  return [
    { metric: `${metric} p50`, unit: "ms", values: pick("p50") },
    { metric: `${metric} p99`, unit: "ms", values: pick("p99") },
  ];
}

/**
 * "Added" p50/p99 rows: each target's percentile minus the baseline's; with `cmp.factor`, the
 * subject is judged: its added figure ≤ factor × the reference's. Percentiles are subtracted (not
 * per-sample pairs): samples of different targets are not paired.
 */
export function addedRows(metric: string, by: ReadonlyMap<string, Summary>, cmp: Comparison): Row[] {
  const base = by.get(cmp.baseline);
  return (["p50", "p99"] as const).map((q) => {
    const added = (id: string): number => (by.get(id)?.[q] ?? Number.NaN) - (base?.[q] ?? Number.NaN);
    const values: Record<string, number | undefined> = {};
    for (const id of by.keys()) if (id !== cmp.baseline) values[id] = added(id);
    const row: Row = { metric: `added ${metric} ${q}`, unit: "ms", values };
    return cmp.factor === undefined
      ? row
      : { ...row, goal: withinFactor(added(cmp.subject), added(cmp.reference), cmp.factor, cmp) };
  });
}

/** The comparison's `deltas` rows for `metric` (see `DeltaSpec`). */
export function deltaRows(metric: string, by: ReadonlyMap<string, Summary>, cmp: Comparison): Row[] {
  return (cmp.deltas ?? []).map((d) => {
    const over = by.get(d.over)?.[d.quantile] ?? Number.NaN;
    const values: Record<string, number | undefined> = {};
    for (const [id, s] of by) {
      if (id === cmp.baseline || id === d.over || (d.columns !== undefined && !d.columns.includes(id)))
        continue;
      values[id] = s[d.quantile] - over;
    }
    const goal =
      d.goal === undefined
        ? undefined
        : withinMs(by.get(d.goal.subject)?.[d.quantile] ?? Number.NaN, over, d.goal.boundMs, {
            subject: d.goal.subject,
            reference: d.over,
          });
    return {
      metric: `${metric} ${d.quantile} over ${d.over}`,
      unit: "ms",
      values,
      ...(goal === undefined ? {} : { goal }),
      ...(d.note === undefined ? {} : { note: d.note }),
    };
  });
}

/** Resolves after `ms`, letting sockets and GC settle between phases. */
export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
