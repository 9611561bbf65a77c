/** What a benchmark scenario is, what it reports, and helpers shared by the scenarios. */
import type { Agent } from "undici";
import type { GoalVerdict } from "./goals.ts";
import type { Summary } from "./stats.ts";
import type { Target } from "./targets.ts";

/** Units a row may be in; they decide how the table prints its numbers. */
export type Unit = "ms" | "events/s" | "MiB" | "streams";

/** One line of the table: a metric, its value per target id, and the goal it is judged by, if any. */
export interface Row {
  readonly metric: string;
  readonly unit: Unit;
  readonly values: Readonly<Record<string, number | undefined>>;
  readonly goal?: GoalVerdict;
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
  log(line: string): void;
}

/** One block of the table. New rows are new entries in bench/suite.ts. */
export interface Scenario {
  readonly id: string;
  readonly title: string;
  run(ctx: BenchContext): Promise<ScenarioResult>;
}

/**
 * Which targets a scenario runs on: `baseline` is subtracted to get "added" figures, `subject`'s
 * added cost is judged against `reference`'s, and `also` are measured for context only.
 */
export interface Comparison {
  readonly baseline: string;
  readonly reference: string;
  readonly also: readonly string[];
  readonly subject: string;
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
};

/** The comparison's targets, in the order they take turns. */
export function compared(ctx: BenchContext, cmp: Comparison): Target[] {
  return [cmp.baseline, cmp.reference, ...cmp.also, cmp.subject].map((id) => {
    const t = ctx.targets.get(id);
    if (t === undefined) throw new Error(`bench: no target "${id}" was started`);
    return t;
  });
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
 * "Added" p50/p99 rows: each target's percentile minus the baseline's, with the subject judged
 * by `judge(subjectAdded, referenceAdded)`. Percentiles are subtracted (not per-sample pairs),
 * because samples of different targets are not paired.
 */
export function addedRows(
  metric: string,
  by: ReadonlyMap<string, Summary>,
  cmp: Comparison,
  judge: (subjectAdded: number, referenceAdded: number) => GoalVerdict,
): Row[] {
  const base = by.get(cmp.baseline);
  return (["p50", "p99"] as const).map((q) => {
    const added = (id: string): number => (by.get(id)?.[q] ?? Number.NaN) - (base?.[q] ?? Number.NaN);
    const values: Record<string, number | undefined> = {};
    for (const id of by.keys()) if (id !== cmp.baseline) values[id] = added(id);
    return {
      metric: `added ${metric} ${q}`,
      unit: "ms",
      values,
      goal: judge(added(cmp.subject), added(cmp.reference)),
    };
  });
}

/** Resolves after `ms`, letting sockets and GC settle between phases. */
export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
