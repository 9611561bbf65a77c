import { EVENT_STREAM_TYPE, HEADER } from "../protocol.ts";
import { newStreamId, streamHostName } from "../resumable/stream-id.ts";
import { requireProvider } from "../upstream/providers.ts";
import { requireKey } from "./attempt.ts";
import type { ExchangeContext, StreamHost } from "./context.ts";
import { runDirect } from "./direct.ts";
import type { StreamPlan } from "./plan.ts";
import { runResumable } from "./resumable.ts";

/**
 * Runs a plan: streaming answers go through a stream-host Durable Object (resumable by id) when a `host`
 * is given, unless turned off by configuration or by the request (`x-resumable: false`); everything
 * else runs directly. Every stream holds one of its principal's open-stream slots until it ends.
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
  // A resumable stream's id names the host object that holds it; any other stream's id is only a label.
  const streamId = newStreamId(
    resumable === undefined || hosts === 0 ? undefined : streamHostName(plan.colo, hosts),
  );
  // 429 when none is free.
  await ctx.slots.acquire(plan.principal, streamId);
  const release = () => void ctx.slots.release(plan.principal, streamId);
  try {
    const res =
      resumable === undefined
        ? await runDirect(plan, request, ctx, (state) => state.onEnd(release))
        : await runResumable(plan, request, resumable, streamId);
    // Only a stream that started holds the slot (the stream's end, or its object, releases it).
    if (!isEventStream(res)) release();
    return res;
  } catch (err) {
    release();
    throw err;
  }
}

function isEventStream(res: Response): boolean {
  return res.ok && (res.headers.get("content-type") ?? "").startsWith(EVENT_STREAM_TYPE);
}
