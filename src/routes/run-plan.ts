import type { Principal } from "../auth/principal.ts";
import { resumeTokenFor } from "../auth/stream-access.ts";
import { configFor } from "../config.ts";
import type { Env } from "../env.ts";
import { forwardableHeaders } from "../http/upstream-headers.ts";
import { HEADER } from "../protocol.ts";
import { newStreamId } from "../resumable/stream-id.ts";
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
  const optOut = request.headers.get(HEADER.resumable)?.toLowerCase() === "false";
  if (!plan.stream || optOut || !config.resumable || env.STREAMS === undefined)
    return runDirect(plan, request, env, config);
  const streamId = newStreamId();
  const stub = env.STREAMS.get(env.STREAMS.idFromName(streamId));
  const res = await stub.fetch(`${STREAM_OBJECT.origin}${STREAM_OBJECT.start}`, {
    method: "POST",
    headers: { [STREAM_OBJECT.ownerHeader]: plan.principal },
    body: JSON.stringify({ streamId, plan, clientHeaders: forwardableHeaders(request.headers) }),
  });
  const relayed = detachOnDisconnect(res, request);
  // EventSource cannot send credentials: a short-lived token bound to this stream and caller stands in.
  const token = res.ok ? await resumeTokenFor(env, streamId, principal) : undefined;
  if (token !== undefined) relayed.headers.set(HEADER.resumeToken, token);
  return relayed;
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
