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
  // Every stream holds one of its principal's open-stream slots until it ends (429 when none is free).
  const streamId = newStreamId();
  await acquireStreamSlot(env, plan.principal, streamId);
  const release = () => void releaseStreamSlot(env, plan.principal, streamId);
  const optOut = request.headers.get(HEADER.resumable)?.toLowerCase() === "false";
  try {
    if (optOut || !config.resumable || env.STREAMS === undefined) {
      const res = await runDirect(plan, request, env, config, (state) => state.onEnd(release));
      if (!isEventStream(res)) release();
      return res;
    }
    const stub = env.STREAMS.get(env.STREAMS.idFromName(streamId));
    const res = await stub.fetch(`${STREAM_OBJECT.origin}${STREAM_OBJECT.start}`, {
      method: "POST",
      headers: { [STREAM_OBJECT.ownerHeader]: plan.principal },
      body: JSON.stringify({ streamId, plan, clientHeaders: forwardableHeaders(request.headers) }),
    });
    // Only a stream the object started holds the slot (the object releases it when the stream ends).
    if (!isEventStream(res)) release();
    const relayed = detachOnDisconnect(res, request);
    // EventSource cannot send credentials: a short-lived token bound to this stream and caller stands in.
    const token = res.ok ? await resumeTokenFor(env, streamId, principal) : undefined;
    if (token !== undefined) relayed.headers.set(HEADER.resumeToken, token);
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
  const relay = new TransformStream<Uint8Array, Uint8Array>();
  res.body.pipeTo(relay.writable, { signal: request.signal }).catch(() => {});
  return new Response(relay.readable, res);
}
