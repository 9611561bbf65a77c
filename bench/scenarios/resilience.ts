/**
 * Issue 14's rows: what the resilience machinery costs when nothing fails (a chain whose first
 * target is healthy against no chain), how long an answer takes after one 503, after a target
 * that is down, and with a first target 3 s slow, hedged by the TTFT deadline or not. Every series
 * goes through `POST /v1/chat/completions` (chains live there), one stream at a time, in turn.
 */
import { firstContentOf } from "../client.ts";
import { withinMs } from "../goals.ts";
import { planModel, type StreamPlan } from "../plan.ts";
import type { RouteRequest } from "../routes.ts";
import type { BenchContext, Row, Scenario } from "../scenario.ts";
import { targetOf } from "../scenario.ts";
import { type Summary, summarize } from "../stats.ts";
import { type Series, traceRounds } from "./series.ts";

/** How the resilience scenario is run. */
export interface ResilienceOptions {
  readonly id: string;
  readonly title: string;
  /** The gateway without a TTFT deadline, and the same with `TTFT_DEADLINE_MS` = `deadlineMs`. */
  readonly plain: string;
  readonly hedging: string;
  readonly deadlineMs: number;
  readonly plan: StreamPlan;
  /** Streams per series for the healthy-path comparison (after `warmup`), and for the slow ones. */
  readonly samples: number;
  readonly failingSamples: number;
  readonly slowSamples: number;
  readonly warmup: number;
  /** The healthy chain's budget over no chain, p50 (the machinery must cost nothing on the good path). */
  readonly healthyBoundMs: number;
  /** The hedged stream's budget over `deadlineMs` + the no-chain first content, p50. */
  readonly hedgeBoundMs: number;
}

/** A unified-endpoint request for a model, or a chain in the request's `models`. */
function unified(models: readonly string[]): RouteRequest {
  const target = models.length === 1 ? { model: models[0] } : { models };
  return {
    path: "/v1/chat/completions",
    body: JSON.stringify({ ...target, stream: true, messages: [{ role: "user", content: "bench" }] }),
  };
}

export function resilienceScenario(opts: ResilienceOptions): Scenario {
  return {
    id: opts.id,
    title: opts.title,
    async run(ctx: BenchContext) {
      const plain = targetOf(ctx, opts.plain);
      const hedging = targetOf(ctx, opts.hedging);
      const m = planModel(opts.plan);
      const s = (id: string, target = plain, ...models: string[]): Series => ({
        id,
        target,
        request: unified(models),
      });
      const healthy = [
        s("no chain", plain, `openai/${m}`),
        s("healthy chain", plain, `openai/${m}`, `down/${m}`),
      ];
      const failing = [
        s("one 503, then an answer (same target)", plain, `flaky/${m}`),
        s("first target down (503s, then its circuit is open)", plain, `down/${m}`, `openai/${m}`),
        s(`first target 3 s slow, hedged at ${opts.deadlineMs} ms`, hedging, `slow/${m}`, `openai/${m}`),
      ];
      const unhedged = [s("first target 3 s slow, no deadline", plain, `slow/${m}`, `openai/${m}`)];
      // Issue 15: the first attempt drops after one event; the same target continues it by prefill.
      const dropped = s("drop → first continued token (same target, prefill)", plain, `dropper/${m}`);
      ctx.log(`  ${opts.id}: healthy path, ${opts.samples} streams per series`);
      await traceRounds(ctx, healthy, opts.warmup);
      const traces = new Map([
        ...(await traceRounds(ctx, healthy, opts.samples)),
        ...(await traceRounds(ctx, failing, opts.failingSamples)),
        ...(await traceRounds(ctx, unhedged, opts.slowSamples)),
        ...(await traceRounds(ctx, [dropped], opts.failingSamples)),
      ]);
      const all = [...healthy, ...failing, ...unhedged];
      const by = new Map<string, Summary>(
        all.map((x) => [x.id, summarize((traces.get(x.id) ?? []).flatMap((t) => firstContentOf(t) ?? []))]),
      );
      const failed = Object.fromEntries(
        all.map((x) => [x.id, (traces.get(x.id) ?? []).filter((t) => t.error !== undefined).length]),
      );
      const p50 = (id: string) => by.get(id)?.p50 ?? Number.NaN;
      const rows: Row[] = all.map((x) => ({
        metric: `first content p50, ${x.id}`,
        unit: "ms",
        values: { [x.target.id]: p50(x.id) },
        note: `${by.get(x.id)?.n ?? 0} streams, ${failed[x.id]} failed`,
      }));
      // The gap the client sees between the last token before the drop and the first continued one.
      const seams = (traces.get(dropped.id) ?? []).flatMap((t) =>
        t.error === undefined && t.arrivals.length > 1 ? [(t.arrivals[1] ?? 0) - (t.arrivals[0] ?? 0)] : [],
      );
      const seam = summarize(seams);
      rows.push({
        metric: "drop → first continued token p50 (same target, prefill)",
        unit: "ms",
        values: { [plain.id]: seam.p50 },
        note: `${seam.n} of ${opts.failingSamples} continued whole; the wait is mostly RETRY_BACKOFF_MS's jittered backoff`,
      });
      const [none, chain] = ["no chain", "healthy chain"];
      rows.push({
        metric: "healthy chain − no chain, first content p50",
        unit: "ms",
        values: { [plain.id]: p50(chain) - p50(none) },
        goal: withinMs(p50(chain), p50(none), opts.healthyBoundMs, { subject: chain, reference: none }),
      });
      const hedged = failing[2]?.id ?? "";
      rows.push({
        metric: `hedged − (${opts.deadlineMs} ms + no chain), first content p50`,
        unit: "ms",
        values: { [hedging.id]: p50(hedged) - opts.deadlineMs - p50(none) },
        goal: withinMs(p50(hedged), opts.deadlineMs + p50(none), opts.hedgeBoundMs, {
          subject: "hedged",
          reference: `${opts.deadlineMs} ms + no chain`,
        }),
      });
      return {
        rows,
        detail: {
          plan: opts.plan,
          deadlineMs: opts.deadlineMs,
          firstContent: Object.fromEntries(by),
          failed,
        },
      };
    },
  };
}
