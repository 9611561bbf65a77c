import { forwardableHeaders } from "../http/upstream-headers.ts";
import { HEADER } from "../protocol.ts";
import { callStream } from "../resumable/stream-stub.ts";
import { STREAM_OBJECT } from "../resumable/wire.ts";
import type { StreamHost } from "./context.ts";
import type { StreamPlan } from "./plan.ts";

/** What the worker sends the stream object to start a stream (`POST /start`). */
export interface StartSpec {
  readonly streamId: string;
  readonly plan: StreamPlan;
  /** The client's allow-listed headers, forwarded upstream by the object. */
  readonly clientHeaders: Record<string, string>;
}

/**
 * Starts a plan's stream in the Durable Object its id names (the object runs the exchange, see
 * stored-stream.ts) and relays the object's bytes to the client. The resume token is signed while
 * the object starts the stream, not after.
 */
export async function runResumable(
  plan: StreamPlan,
  request: Request,
  host: StreamHost,
  streamId: string,
): Promise<Response> {
  // EventSource cannot send credentials: a short-lived token bound to this stream and caller stands in.
  const token = host.resumeToken(streamId);
  // Awaited below when the stream started; marked handled so a failure there is not reported twice.
  token.catch(() => {});
  const spec: StartSpec = {
    streamId,
    plan: { ...plan, streamId },
    clientHeaders: forwardableHeaders(request.headers),
  };
  const res = await callStream(host.streams, streamId, plan.principal, STREAM_OBJECT.start, {
    method: "POST",
    body: JSON.stringify(spec),
  });
  const relayed = detachOnDisconnect(res, request);
  const signed = res.ok ? await token : undefined;
  if (signed !== undefined) relayed.headers.set(HEADER.resumeToken, signed);
  return relayed;
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
