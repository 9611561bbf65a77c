import { tooManyOpenStreams } from "../auth/open-streams.ts";
import type { Env } from "../env.ts";

/** The internal origin of principal objects (never reachable from outside). */
const ORIGIN = "https://principal.internal";

function objectFor(env: Env, principal: string): DurableObjectStub | undefined {
  return env.PRINCIPALS?.get(env.PRINCIPALS.idFromName(principal));
}

/**
 * Takes one of the principal's open-stream slots for `streamId`, or answers 429 when all `limit` are
 * taken. No binding or a limit of 0 means no limit.
 */
export async function acquireStreamSlot(
  env: Env,
  principal: string,
  streamId: string,
  limit: number,
): Promise<void> {
  const stub = objectFor(env, principal);
  if (stub === undefined || limit <= 0) return;
  const res = await stub.fetch(`${ORIGIN}/acquire?stream=${streamId}&limit=${limit}`, { method: "POST" });
  if (res.status === 429) throw tooManyOpenStreams(limit);
}

/** Keeps a live stream's slot (called from the stream object's heartbeat). */
export async function renewStreamSlot(env: Env, principal: string, streamId: string): Promise<void> {
  await objectFor(env, principal)?.fetch(`${ORIGIN}/renew?stream=${streamId}`, { method: "POST" });
}

/** Frees a stream's slot when it ends; failures are harmless (the lease expires by itself). */
export function releaseStreamSlot(env: Env, principal: string, streamId: string): Promise<void> {
  const stub = objectFor(env, principal);
  if (stub === undefined) return Promise.resolve();
  return stub
    .fetch(`${ORIGIN}/release?stream=${streamId}`, { method: "POST" })
    .then(() => undefined)
    .catch(() => undefined);
}
