/**
 * A token bucket over one socket's control messages (everything but `chat.create`, which the
 * gateway's rate limits count as a request): `perSecond` on average, bursts of up to `perSecond`.
 * Pure: the caller passes the clock.
 */
export class MessageRate {
  readonly #perSecond: number;
  #tokens: number;
  #at: number;

  constructor(perSecond: number, now: number) {
    this.#perSecond = perSecond;
    this.#tokens = perSecond;
    this.#at = now;
  }

  /** Takes one message's token; false when the socket is over its rate (the message is refused). */
  take(now: number): boolean {
    const elapsed = Math.max(0, now - this.#at) / 1000;
    this.#at = now;
    this.#tokens = Math.min(this.#perSecond, this.#tokens + elapsed * this.#perSecond);
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
