import { GatewayError } from "../errors.ts";
import { ERROR_CODE, HEADER } from "../protocol.ts";

/** The outcome of asking for a stream slot. */
export type LeaseResult = { readonly ok: true } | { readonly ok: false; readonly open: number };

/**
 * Counts one principal's open streams as leases (stream id → expiry). A stream takes a lease when
 * it starts, renews it while live and releases it when it ends; a lease whose stream vanished (a
 * crash, a lost object) expires on its own, so a slot can never leak for good. Pure: the caller
 * passes the clock, and whatever holds it (a per-principal Durable Object) decides persistence.
 *
 * A slot is asked for while its stream starts, not before (see exchange/run.ts), so a short stream's
 * release can reach here before its acquire: a release of a stream holding no lease is remembered
 * for a lease's lifetime, and that stream's late acquire is granted without taking a slot.
 */
export class OpenStreamLeases {
  readonly #leases = new Map<string, number>();
  /** Streams released before they acquired (stream id → when to forget it). */
  readonly #ended = new Map<string, number>();
  readonly #limit: number;
  readonly #leaseMs: number;

  /** `limit` open streams at most (unless an acquire names its own); a lease lives `leaseMs` past its last renewal. */
  constructor(limit: number, leaseMs: number) {
    this.#limit = limit;
    this.#leaseMs = leaseMs;
  }

  /**
   * Takes a slot for `streamId` (idempotent: a stream already holding one renews it), `limit` open at
   * most (the caller's setting as it is now; the constructor's when absent).
   */
  acquire(streamId: string, now: number, limit: number = this.#limit): LeaseResult {
    this.#prune(now);
    if (this.#ended.delete(streamId)) return { ok: true };
    if (!this.#leases.has(streamId) && this.#leases.size >= limit)
      return { ok: false, open: this.#leases.size };
    this.#leases.set(streamId, now + this.#leaseMs);
    return { ok: true };
  }

  /** Extends a live stream's lease; false if it has none (expired or never taken). */
  renew(streamId: string, now: number): boolean {
    this.#prune(now);
    if (!this.#leases.has(streamId)) return false;
    this.#leases.set(streamId, now + this.#leaseMs);
    return true;
  }

  /** Frees the slot of a stream that ended; one that holds none yet is remembered (see the class). */
  release(streamId: string, now: number): void {
    if (!this.#leases.delete(streamId)) this.#ended.set(streamId, now + this.#leaseMs);
  }

  /** How many streams hold an unexpired lease. */
  open(now: number): number {
    this.#prune(now);
    return this.#leases.size;
  }

  /** The earliest expiry, for an alarm that prunes; undefined when nothing is open. */
  nextExpiry(): number | undefined {
    let next: number | undefined;
    for (const exp of this.#leases.values()) if (next === undefined || exp < next) next = exp;
    return next;
  }

  #prune(now: number): void {
    for (const [id, exp] of this.#leases) if (exp <= now) this.#leases.delete(id);
    for (const [id, exp] of this.#ended) if (exp <= now) this.#ended.delete(id);
  }
}

/** The 429 for a principal at its open-stream limit; retry once a stream ends (a few seconds). */
export function tooManyOpenStreams(limit: number, retryAfterSeconds = 10): GatewayError {
  return new GatewayError(
    429,
    ERROR_CODE.rateLimited,
    `too many open streams for this caller (limit ${limit}); wait for one to finish or cancel one`,
    { [HEADER.retryAfter]: String(retryAfterSeconds) },
  );
}
