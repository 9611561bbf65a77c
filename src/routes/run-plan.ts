import type { Principal } from "../auth/principal.ts";
import { resumeTokenFor } from "../auth/stream-access.ts";
import { configFor } from "../config.ts";
import type { Env } from "../env.ts";
import { forwardableHeaders } from "../http/upstream-headers.ts";
import { EVENT_STREAM_TYPE, HEADER } from "../protocol.ts";
import { newStreamId } from "../resumable/stream-id.ts";
import { acquireStreamSlot, releaseStreamSlot } from "../resumable/stream-slots.ts";
import { STREAM_OBJECT } from "../resumable/wire.ts";
import { requireProvider } from "../upstream/providers.ts";
import { runDirect, type StreamPlan } from "./plan.ts";
import { requireKey } from "./stream-response.ts";

/**
 * Runs a plan: streaming answers go through a fresh Durable Object (resumable by id) unless turned
 * off by configuration or by the request (`x-resumable: false`); everything else runs directly.
 */
export async function runPlan(
  plan: StreamPlan,
  request: Request,
  env: Env,
  principal: Principal,
): Promise<Response> {
  const config = configFor(env);
  requireKey(requireProvider(config.providers, plan.provider));
  if (!plan.stream) return runDirect(plan, request, env, config);
  const optOut = request.headers.get(HEADER.resumable)?.toLowerCase() === "false";
  const streams = optOut || !config.resumable ? undefined : env.STREAMS;
  const streamId = newStreamId();
  // Every stream holds one of its principal's open-stream slots until it ends (429 when none is free).
  await acquireStreamSlot(env, plan.principal, streamId);
  const release = () => void releaseStreamSlot(env, plan.principal, streamId);
  try {
    if (streams === undefined) {
      const res = await runDirect(plan, request, env, config, (state) => state.onEnd(release));
      if (!isEventStream(res)) release();
      return res;
    }
    // EventSource cannot send credentials: a short-lived token bound to this stream and caller stands
    // in. Signed while the object starts the stream, not after.
    const token = resumeTokenFor(env, streamId, principal);
    // Awaited below when the stream started; marked handled so a failure there is not reported twice.
    token.catch(() => {});
    const res = await streams
      .get(streams.idFromName(streamId))
      .fetch(`${STREAM_OBJECT.origin}${STREAM_OBJECT.start}`, {
        method: "POST",
        headers: { [STREAM_OBJECT.ownerHeader]: plan.principal },
        body: JSON.stringify({
          streamId,
          plan: { ...plan, streamId },
          clientHeaders: forwardableHeaders(request.headers),
        }),
      });
    // Only a stream the object started holds the slot (the object releases it when the stream ends).
    if (!isEventStream(res)) release();
    const relayed = detachOnDisconnect(res, request);
    const signed = res.ok ? await token : undefined;
    if (signed !== undefined) relayed.headers.set(HEADER.resumeToken, signed);
    return relayed;
  } catch (err) {
    release();
    throw err;
  }
}

function isEventStream(res: Response): boolean {
  return res.ok && (res.headers.get("content-type") ?? "").startsWith(EVENT_STREAM_TYPE);
}

/**
 * Relays a stream object's response so that a client disconnect reaches the object: the reader is
 * cancelled there (the generation goes on, stored), instead of the object queueing events for a
 * client that is gone and holding the request open.
 */
export function detachOnDisconnect(res: Response, request: Request): Response {
  if (res.body === null) return res;
  // The runtime's own byte stream: piping into it stays native, no JavaScript per chunk.
  const relay = new IdentityTransformStream();
  res.body.pipeTo(relay.writable, { signal: request.signal }).catch(() => {});
  return new Response(relay.readable, res);
}
