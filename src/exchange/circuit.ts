/** One target's breaker: consecutive failures, and until when it is skipped. */
interface Breaker {
  failures: number;
  openUntil: number;
  /** A probe request is out (half-open): others still skip the target until it answers. */
  probing: boolean;
}

/**
 * Circuit breaking per target (`<provider>/<model>`): after `failures` consecutive failures a target
 * is skipped for `cooldownMs` (a longer `retry-after` extends it), then one probe is let through;
 * its success closes the circuit, its failure opens it again. State lives in this isolate's memory:
 * each isolate learns on its own, which costs nothing on the hot path (no storage or network) and
 * at worst lets a few more requests reach a failing target before every isolate has opened.
 */
export class CircuitBreakers {
  readonly #failures: number;
  readonly #cooldownMs: number;
  readonly #now: () => number;
  readonly #breakers = new Map<string, Breaker>();

  constructor(failures: number, cooldownMs: number, now: () => number = Date.now) {
    this.#failures = failures;
    this.#cooldownMs = cooldownMs;
    this.#now = now;
  }

  /** Whether a request may go to `target` now (closed, or the one probe after the cooldown). */
  allow(target: string): boolean {
    const b = this.#breakers.get(target);
    if (b === undefined || b.failures < this.#failures) return true;
    return !b.probing && this.#now() >= b.openUntil;
  }

  /** A request is going to `target`: after the cooldown it is the one probe, and others wait for it. */
  begin(target: string): void {
    const b = this.#breakers.get(target);
    if (b !== undefined && b.failures >= this.#failures) b.probing = true;
  }

  /** `target` answered: its circuit closes. */
  success(target: string): void {
    this.#breakers.delete(target);
  }

  /** `target` failed; `retryAfterMs`, when the upstream said how long, extends the cooldown. */
  failure(target: string, retryAfterMs?: number): void {
    const b = this.#breakers.get(target) ?? { failures: 0, openUntil: 0, probing: false };
    b.failures++;
    b.probing = false;
    if (b.failures >= this.#failures) {
      b.openUntil = this.#now() + Math.max(this.#cooldownMs, retryAfterMs ?? 0);
    }
    this.#breakers.set(target, b);
  }

  /** Whether `target` is being skipped now (for status and tests). */
  isOpen(target: string): boolean {
    const b = this.#breakers.get(target);
    return b !== undefined && b.failures >= this.#failures && this.#now() < b.openUntil;
  }
}
