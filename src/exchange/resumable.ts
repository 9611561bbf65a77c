import { forwardableHeaders } from "../http/upstream-headers.ts";
import { HEADER } from "../protocol.ts";
import { callStream } from "../resumable/stream-stub.ts";
import { STREAM_OBJECT } from "../resumable/wire.ts";
import type { StreamHost } from "./context.ts";
import { type StreamPlan, UNKNOWN_WHERE, type Whereabouts } from "./plan.ts";

/**
 * A plan as it crosses to the stream object. Versions before `where` carried the whereabouts as the
 * plan's own `colo` and `country`, and a worker and its objects can run different versions during a
 * deploy (docs/storage.md, Deploying): both forms are sent and both are read, so neither side's data
 * point loses its location. The old form can go once no version before `where` can be running.
 */
export type SentPlan = StreamPlan & { readonly colo?: string; readonly country?: string };

/** The whereabouts a sent plan carries, in either form. */
export function whereSent(plan: SentPlan): Whereabouts {
  if (plan.where !== undefined) return plan.where;
  const { colo, country } = plan;
  return colo === undefined || country === undefined ? UNKNOWN_WHERE : { colo, country };
}

/** What the worker sends the stream object to start a stream (`POST /start`). */
export interface StartSpec {
  readonly streamId: string;
  readonly plan: SentPlan;
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
    // `where` and, beside it, the colo and country that objects older than `where` read (see SentPlan).
    plan: { ...plan, streamId, ...plan.where },
    clientHeaders: forwardableHeaders(request.headers),
  };
  const res = await callStream(host.streams, streamId, plan.principal, STREAM_OBJECT.start, {
    method: "POST",
    body: JSON.stringify(spec),
  });
  // The object's own stream, not piped through another: a client that goes away cancels it, which
  // detaches that reader in the object (test/e2e/resumable.test.ts), and a hop here cost about 13% of
  // the default configuration's CPU per event (docs/storage.md). Re-wrapped only for a settable header.
  const relayed = new Response(res.body, res);
  const signed = res.ok ? await token : undefined;
  if (signed !== undefined) relayed.headers.set(HEADER.resumeToken, signed);
  return relayed;
}

/** Stops a stream this edge started (a refused slot): the object ends its generation for every reader. */
export async function cancelResumable(host: StreamHost, streamId: string, principal: string): Promise<void> {
  const res = await callStream(host.streams, streamId, principal, STREAM_OBJECT.cancel, { method: "POST" });
  await res.body?.cancel();
}
