import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env.ts";
import { OpenStreamLeases } from "../quota/open-streams.ts";

/**
 * A lease outlives its last renewal by this much. Stream objects renew on their heartbeat (every 10 s),
 * so a live stream never loses its slot, and the slot of a stream that vanished frees itself in a minute.
 */
export const LEASE_MS = 60_000;

/**
 * The status says it all (the edge reads nothing else): no body to serialize here, to carry across to
 * the caller, or to leave unread there, on two calls of every stream.
 */
function answer(status: number): Response {
  return new Response(null, { status });
}

/**
 * One object per principal, counting that principal's open streams (see OpenStreamLeases). The count
 * lives in memory: if the object is evicted the count restarts at zero, which only loosens the limit
 * for a while; it never blocks a principal for good.
 */
export class PrincipalObject extends DurableObject<Env> {
  #leases: OpenStreamLeases | undefined;

  override async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const stream = url.searchParams.get("stream") ?? "";
    const now = Date.now();
    switch (url.pathname) {
      case "/acquire": {
        const limit = Number(url.searchParams.get("limit") ?? "0");
        const result = this.#open().acquire(stream, now, limit);
        return answer(result.ok ? 200 : 429);
      }
      case "/renew":
        return answer(this.#leases?.renew(stream, now) === true ? 200 : 404);
      case "/release":
        // Even before any acquire: a short stream's release may overtake its acquire.
        this.#open().release(stream, now);
        return answer(200);
      default:
        return new Response("unknown operation", { status: 404 });
    }
  }

  /** The leases, made on first use; each acquire brings its limit. */
  #open(): OpenStreamLeases {
    this.#leases ??= new OpenStreamLeases(0, LEASE_MS);
    return this.#leases;
  }
}
