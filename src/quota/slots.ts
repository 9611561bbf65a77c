import { tooManyOpenStreams } from "./open-streams.ts";

/** The internal origin of principal objects (never reachable from outside). */
const ORIGIN = "https://principal.internal";

/**
 * A principal's open-stream slots: every stream holds one until it ends (see OpenStreamLeases in
 * the principal's object). Built by an edge from the `PRINCIPALS` binding and `MAX_OPEN_STREAMS`.
 */
export interface StreamSlots {
  /** Takes a slot for `streamId`, or throws the 429 when all are taken. */
  acquire(principal: string, streamId: string): Promise<void>;
  /** Keeps a live stream's slot (the stream object's heartbeat). */
  renew(principal: string, streamId: string): Promise<void>;
  /** Frees a stream's slot when it ends; never fails (the lease expires by itself). */
  release(principal: string, streamId: string): Promise<void>;
}

/** No limit: no slot is taken, renewed or released, and no stream pays for the hop. */
const UNLIMITED: StreamSlots = {
  acquire: () => Promise.resolve(),
  renew: () => Promise.resolve(),
  release: () => Promise.resolve(),
};

/**
 * Slots counted by one principal object per principal, at most `limit` open at once. No binding or
 * a limit of 0 means no limit.
 */
export function principalSlots(principals: DurableObjectNamespace | undefined, limit: number): StreamSlots {
  if (principals === undefined || limit <= 0) return UNLIMITED;
  const objectFor = (principal: string) => principals.get(principals.idFromName(principal));
  return {
    async acquire(principal, streamId) {
      const res = await objectFor(principal).fetch(`${ORIGIN}/acquire?stream=${streamId}&limit=${limit}`, {
        method: "POST",
      });
      if (res.status === 429) throw tooManyOpenStreams(limit);
    },
    async renew(principal, streamId) {
      await objectFor(principal).fetch(`${ORIGIN}/renew?stream=${streamId}`, { method: "POST" });
    },
    release(principal, streamId) {
      return objectFor(principal)
        .fetch(`${ORIGIN}/release?stream=${streamId}`, { method: "POST" })
        .then(() => undefined)
        .catch(() => undefined);
    },
  };
}
