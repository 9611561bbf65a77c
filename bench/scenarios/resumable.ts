/**
 * Issue 4's own rows: how fast a finished stream replays (`GET /v1/streams/{id}`), and how many
 * SQLite rows a stream's Durable Object writes per 1,000 events.
 */
import { request } from "undici";
import { type StreamTrace, traceStream } from "../client.ts";
import type { StreamPlan } from "../plan.ts";
import { replayRequest, type StreamRoute } from "../routes.ts";
import { type BenchContext, type Row, type Scenario, targetOf } from "../scenario.ts";
import { median } from "../stats.ts";
import { storageProbeTarget, type Target } from "../targets.ts";

/** What `GET /v1/streams/{id}/status` answers (the fields the bench reads). */
interface StreamStatus {
  readonly state: string;
  readonly events: number;
}

function isStatus(v: unknown): v is StreamStatus {
  return typeof v === "object" && v !== null && "state" in v && "events" in v && typeof v.events === "number";
}

async function statusOf(ctx: BenchContext, t: Target, streamId: string): Promise<StreamStatus | undefined> {
  const res = await request(`${t.origin}/v1/streams/${encodeURIComponent(streamId)}/status`, {
    dispatcher: ctx.agent,
  });
  const body: unknown = await res.body.json();
  return isStatus(body) ? body : undefined;
}

/** Events/s of a whole trace: stamped events ÷ (last arrival − request start); undefined when incomplete. */
function rateOf(t: StreamTrace, events: number): number | undefined {
  const last = t.arrivals[t.arrivals.length - 1];
  if (t.error !== undefined || t.arrivals.length !== events || last === undefined) return undefined;
  return (events * 1000) / (last - t.startMs);
}

/** How the replay scenario is run. */
export interface ReplayOptions {
  readonly id: string;
  readonly title: string;
  /** The resumable gateway target, and the route its stream is started on. */
  readonly target: string;
  readonly route: StreamRoute;
  /** The finished stream to replay (as fast as the mock can write it). */
  readonly plan: StreamPlan;
  /** Replays per phase; the median rate is reported. */
  readonly repeats: number;
}

/**
 * Starts one stream, reads it fully, then replays it by its `x-stream-id` from the first event:
 * first from its running host (a finished stream is served from the host's SQLite rows: only live
 * streams stay in memory), then after evicting the host, so the replay also meets a fresh instance
 * (what a client gets once the object has been unloaded, or after a deploy).
 */
export function replayScenario(opts: ReplayOptions): Scenario {
  return {
    id: opts.id,
    title: opts.title,
    async run(ctx: BenchContext) {
      const t = targetOf(ctx, opts.target);
      const live = await traceStream(ctx.agent, t.origin, opts.route.request(t.kind, opts.plan));
      const id = live.streamId;
      if (id === undefined || rateOf(live, opts.plan.events) === undefined) {
        throw new Error(`bench: ${t.id} did not stream ${opts.plan.events} events with an x-stream-id`);
      }
      const status = await statusOf(ctx, t, id);
      const replay = async (): Promise<number[]> => {
        const rates: number[] = [];
        for (let i = 0; i < opts.repeats; i += 1) {
          const rate = rateOf(await traceStream(ctx.agent, t.origin, replayRequest(id)), opts.plan.events);
          if (rate !== undefined) rates.push(rate);
        }
        return rates;
      };
      const inMemory = await replay();
      if (t.evictStream === undefined) throw new Error(`bench: ${t.id} cannot evict a stream's object`);
      await t.evictStream(id);
      const fromStorage = await replay();
      const one = (rates: number[]): Record<string, number | undefined> => ({
        [t.id]: rates.length === opts.repeats ? median(rates) : undefined,
      });
      const rows: Row[] = [
        {
          metric: `replay, host running (median of ${opts.repeats})`,
          unit: "events/s",
          values: one(inMemory),
          note: `the live stream itself: ${Math.round(rateOf(live, opts.plan.events) ?? 0).toLocaleString("en-US")} events/s`,
        },
        {
          metric: `replay after evicting the host (median of ${opts.repeats})`,
          unit: "events/s",
          values: one(fromStorage),
          note: "every event read from the SQLite rows",
        },
      ];
      return { rows, detail: { plan: opts.plan, status, inMemory, fromStorage } };
    },
  };
}

/** How the stored-rows scenario is run. */
export interface StoredRowsOptions {
  readonly id: string;
  readonly title: string;
  /** The column the counts are printed in: the timed target whose configuration the probe copies. */
  readonly column: string;
  /** That target's gateway bindings. */
  readonly bindings: Record<string, string>;
  readonly route: StreamRoute;
  /** One stream per plan: a burst and paced streams (a batch is one row per 50 ms of stream). */
  readonly plans: readonly { readonly label: string; readonly plan: StreamPlan }[];
}

/**
 * Rows the stream's object wrote (`event_batch`, see docs/storage.md) per 1,000 events of the
 * stream, counted in its SQLite through Miniflare on a storage-probe copy of the target (rows
 * are not exposed over HTTP; the events are the object's own count from `/status`).
 */
export function storedRowsScenario(opts: StoredRowsOptions): Scenario {
  return {
    id: opts.id,
    title: opts.title,
    async run(ctx: BenchContext) {
      const probe = await storageProbeTarget(ctx.mockOrigin, `${opts.column}-storage-probe`, opts.bindings);
      const counts: Record<string, unknown>[] = [];
      const rows: Row[] = [];
      try {
        for (const { label, plan } of opts.plans) {
          const trace = await traceStream(ctx.agent, probe.origin, opts.route.request(probe.kind, plan));
          const id = trace.streamId;
          const status = id === undefined ? undefined : await statusOf(ctx, probe, id);
          const stored = id === undefined ? Number.NaN : ((await probe.storedRows?.(id)) ?? Number.NaN);
          const complete = trace.error === undefined && status?.state === "complete";
          const perThousand = complete && status !== undefined ? (stored / status.events) * 1000 : Number.NaN;
          counts.push({ label, plan, streamId: id, status, rows: stored, error: trace.error });
          rows.push({
            metric: `rows per 1,000 events, ${label}`,
            unit: "rows",
            values: { [opts.column]: perThousand },
            note: complete
              ? `counted: ${stored} rows for ${status?.events} events`
              : `stream incomplete (${trace.error ?? status?.state ?? "no status"})`,
          });
        }
      } finally {
        await probe.dispose();
      }
      return { rows, detail: { counts } };
    },
  };
}
