import { EVENT_STREAM_TYPE, HEADER } from "../protocol.ts";
import { newStreamId, streamHostName } from "../resumable/stream-id.ts";
import { requireProvider } from "../upstream/providers.ts";
import { requireKey } from "./attempt.ts";
import type { ExchangeContext, StreamHost } from "./context.ts";
import { runDirect } from "./direct.ts";
import { type StreamPlan, whereFrom } from "./plan.ts";
import { cancelResumable, runResumable } from "./resumable.ts";

/**
 * Runs a plan: streaming answers go through a stream-host Durable Object (resumable by id) when a `host`
 * is given, unless turned off by configuration or by the request (`x-resumable: false`); everything
 * else runs directly. Every stream holds one of its principal's open-stream slots until it ends.
 *
 * The slot is asked for while the stream starts, not before it: the principal's object lives where
 * that principal's first stream came from, possibly an ocean away, and its round trip would otherwise
 * add to every stream's time to first token. Nothing reaches the client before the slot is granted;
 * a refusal stops the stream just started (its upstream call aborted) and answers the 429. The 429
 * waits for the attempt to open (at most its first-token hold): a request's unfinished work ends
 * with its response, so the stop has to happen first, and a resumable stream runs in its own object.
 */
export async function runPlan(
  plan: StreamPlan,
  request: Request,
  ctx: ExchangeContext,
  host: StreamHost | undefined,
): Promise<Response> {
  requireKey(requireProvider(ctx.config.providers, plan.attempts[0].provider));
  if (!plan.stream) return runDirect(plan, request, ctx);
  const optOut = request.headers.get(HEADER.resumable)?.toLowerCase() === "false";
  const resumable = optOut || !ctx.config.resumable ? undefined : host;
  const hosts = ctx.config.streamHosts;
  // A resumable plan leaves for its object with its whereabouts; a direct one reads them at its end.
  const where = resumable === undefined ? undefined : whereFrom(plan, request);
  // A resumable stream's id names the host object that holds it; any other stream's id is only a label.
  const streamId = newStreamId(
    where === undefined || hosts === 0 ? undefined : streamHostName(where.colo, hosts),
  );
  const slot = settled(ctx.slots.acquire(plan.principal, streamId));
  // Sent only once the acquire has answered, so a release never overtakes its own acquire from here.
  const release = () => void slot.then(() => ctx.slots.release(plan.principal, streamId));
  const started = settled(
    resumable === undefined
      ? runDirect(plan, request, ctx, (state) => state.onEnd(release))
      : runResumable({ ...plan, where }, request, resumable, streamId),
  );
  const run = await started;
  if (!run.ok) {
    release();
    throw run.error;
  }
  const granted = await slot;
  if (!granted.ok) {
    await stop(run.value, resumable, streamId, plan.principal);
    throw granted.error;
  }
  // Only a stream that started holds the slot (the stream's end, or its object, releases it).
  if (!isEventStream(run.value)) release();
  return run.value;
}

/** A promise's outcome as a value: awaited later, or never, it cannot become an unhandled rejection. */
type Settled<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: unknown };

function settled<T>(p: Promise<T>): Promise<Settled<T>> {
  return p.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

/** Stops a stream refused its slot: its own stream object's generation when resumable, and its body. */
async function stop(
  res: Response,
  host: StreamHost | undefined,
  streamId: string,
  principal: string,
): Promise<void> {
  if (host !== undefined && res.ok) await cancelResumable(host, streamId, principal).catch(() => {});
  await res.body?.cancel("the caller has no open-stream slot").catch(() => {});
}

function isEventStream(res: Response): boolean {
  return res.ok && (res.headers.get("content-type") ?? "").startsWith(EVENT_STREAM_TYPE);
}
