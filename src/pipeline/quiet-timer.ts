/**
 * Calls `onQuiet` once `touch` has not been called for `limitMs()` (read again at every check, so
 * the limit can change, e.g. from the first-token to the idle timeout). One timer per stream, re-armed
 * lazily when it fires: a touch costs one clock read, nothing per event is scheduled or cleared.
 * After `onQuiet` the count starts again (a keep-alive repeats while the silence lasts).
 */
export class QuietTimer {
  readonly #limitMs: () => number;
  readonly #onQuiet: () => void;
  readonly #now: () => number;
  #last: number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;

  constructor(limitMs: () => number, onQuiet: () => void, now: () => number = Date.now) {
    this.#limitMs = limitMs;
    this.#onQuiet = onQuiet;
    this.#now = now;
    this.#last = now();
    this.#arm(limitMs());
  }

  /** Something happened: the silence starts again from now. */
  touch(): void {
    this.#last = this.#now();
  }

  /** The silence starts again from now, judged by the limit as it is now (it may have shrunk). */
  reset(): void {
    this.touch();
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#arm(this.#limitMs());
  }

  /** No more checks (the stream ended). */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(ms: number): void {
    if (this.#stopped || !(ms > 0) || !Number.isFinite(ms)) return;
    this.#timer = setTimeout(() => this.#check(), ms);
  }

  #check(): void {
    this.#timer = undefined;
    if (this.#stopped) return;
    const limit = this.#limitMs();
    const quiet = this.#now() - this.#last;
    if (quiet >= limit) {
      this.#onQuiet();
      this.#last = this.#now();
      this.#arm(this.#limitMs());
    } else this.#arm(limit - quiet);
  }
}
