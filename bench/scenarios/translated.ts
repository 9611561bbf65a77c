/**
 * Issue 3's translated stream: an Anthropic-format upstream read through the gateway's unified
 * endpoint (`POST /v1/chat/completions`, model `anthropic/…`, translated into OpenAI chunks) next
 * to direct and passthrough reading the same Anthropic stream natively, and next to the gateway's
 * own untranslated route for that stream, so the translation's own cost shows on its own.
 */
import type { StreamPlan } from "../plan.ts";
import type { StreamRoute } from "../routes.ts";
import {
  addedRows,
  type BenchContext,
  type Comparison,
  compared,
  percentileRows,
  type Row,
  type Scenario,
  targetOf,
} from "../scenario.ts";
import { type Summary, summarize } from "../stats.ts";
import { eventDelays, incompleteCount, type Series, traceRounds } from "./series.ts";

/** How the translated-stream scenario is run. */
export interface TranslatedOptions {
  readonly id: string;
  readonly title: string;
  /** The translated route (the subject's), e.g. ANTHROPIC_VIA_UNIFIED. */
  readonly route: StreamRoute;
  /** The same upstream stream on the subject's untranslated route, e.g. ANTHROPIC_NATIVE. */
  readonly untranslated: StreamRoute;
  readonly compare: Comparison;
  readonly plan: StreamPlan;
  /** Measured streams per series, one at a time, series in turn. */
  readonly streams: number;
}

/** Series id of the subject on its untranslated route (a row of its own, not a column). */
const UNTRANSLATED = "untranslated";

function ratio(a: number, b: number): string {
  return b > 0 && !Number.isNaN(a) ? `${(a / b).toFixed(2)}×` : "n/a";
}

/**
 * Per-event delay of the translated stream, judged like the core row (subject's added delay
 * ≤ 1.5× the reference's), plus the subject's untranslated figure and the difference.
 */
export function translatedScenario(opts: TranslatedOptions): Scenario {
  return {
    id: opts.id,
    title: opts.title,
    async run(ctx: BenchContext) {
      const subject = targetOf(ctx, opts.compare.subject);
      const series: Series[] = [
        ...compared(ctx, opts.compare).map((t) => ({
          id: t.id,
          target: t,
          request: opts.route.request(t.kind, opts.plan),
        })),
        { id: UNTRANSLATED, target: subject, request: opts.untranslated.request(subject.kind, opts.plan) },
      ];
      const traces = await traceRounds(ctx, series, opts.streams);
      const all = new Map<string, Summary>([...traces].map(([id, tr]) => [id, summarize(eventDelays(tr))]));
      const by = new Map([...all].filter(([id]) => id !== UNTRANSLATED));
      const base = all.get(opts.compare.baseline);
      const untranslated = all.get(UNTRANSLATED);
      const translated = all.get(opts.compare.subject);
      const sid = opts.compare.subject;
      const rows: Row[] = [
        ...percentileRows("event delay", by),
        ...addedRows("event delay", by, opts.compare),
      ];
      for (const q of ["p50", "p99"] as const) {
        const added = (s: Summary | undefined): number => (s?.[q] ?? Number.NaN) - (base?.[q] ?? Number.NaN);
        rows.push({
          metric: `untranslated: added event delay ${q}`,
          unit: "ms",
          values: { [sid]: added(untranslated) },
          note: `${sid} on ${opts.untranslated.request(subject.kind, opts.plan).path}, same stream: ${ratio(added(untranslated), added(all.get(opts.compare.reference)))} ${opts.compare.reference}'s added; no goal`,
        });
      }
      for (const q of ["p50", "p99"] as const) {
        const t = (translated?.[q] ?? Number.NaN) - (base?.[q] ?? Number.NaN);
        const u = (untranslated?.[q] ?? Number.NaN) - (base?.[q] ?? Number.NaN);
        rows.push({
          metric: `translated − untranslated ${q}`,
          unit: "ms",
          values: { [sid]: t - u },
          note: `the translation's own cost: translated added = ${ratio(t, u)} untranslated added`,
        });
      }
      return {
        rows,
        detail: {
          plan: opts.plan,
          streams: opts.streams,
          requests: Object.fromEntries(series.map((s) => [s.id, { target: s.target.id, ...s.request }])),
          summaries: Object.fromEntries(all),
          incomplete: Object.fromEntries([...traces].map(([id, tr]) => [id, incompleteCount(tr, opts.plan)])),
        },
      };
    },
  };
}
