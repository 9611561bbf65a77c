import { tooManyOpenStreams } from "../auth/open-streams.ts";
import { configFor } from "../config.ts";
import type { Env } from "../env.ts";

/** The internal origin of principal objects (never reachable from outside). */
const ORIGIN = "https://principal.internal";

/**
 * The principal's object, or undefined when open streams are not limited (no binding, or
 * `MAX_OPEN_STREAMS` 0): then no slot is taken, renewed or released, and no stream pays for the hop.
 */
function objectFor(env: Env, principal: string): DurableObjectStub | undefined {
  if (env.PRINCIPALS === undefined || configFor(env).maxOpenStreams <= 0) return undefined;
  return env.PRINCIPALS.get(env.PRINCIPALS.idFromName(principal));
}

/**
 * Takes one of the principal's open-stream slots for `streamId`, or answers 429 when all
 * `MAX_OPEN_STREAMS` are taken. No binding or a limit of 0 means no limit.
 */
export async function acquireStreamSlot(env: Env, principal: string, streamId: string): Promise<void> {
  const stub = objectFor(env, principal);
  if (stub === undefined) return;
  const limit = configFor(env).maxOpenStreams;
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
