import { describeState, type StreamState } from "./stream-state.ts";

/**
 * How long "resuming" and "resumed" stay up once shown. A resume on a good network takes a few
 * milliseconds; without a floor the line would flash by unread, and the point of the demo is to see it.
 */
const RESUME_NOTICE_MS = 2000;

/** How often the waiting line's elapsed time is redrawn: its tenths of a second. */
const WAITING_TICK_MS = 100;

/**
 * The page's live status line (`role="status"`): one sentence for what the current answer is doing.
 * `data-state` names the state and `data-history` lists the states shown, in order, for tests.
 */
export class StatusLine {
  readonly #el: HTMLElement;
  #ticker: ReturnType<typeof setInterval> | undefined;
  #holdUntil = 0;
  #deferred: ReturnType<typeof setTimeout> | undefined;
  #pending: StreamState | undefined;

  constructor(el: HTMLElement) {
    this.#el = el;
  }

  /** A new answer: counts up "Waiting for the first token… N s" from `startedAt` (`performance.now()`). */
  waiting(startedAt: number): void {
    this.#reset();
    this.#el.dataset.history = "";
    const tick = (): void => this.#render({ kind: "waiting", elapsedMs: performance.now() - startedAt });
    tick();
    this.#ticker = setInterval(tick, WAITING_TICK_MS);
  }

  /** Streaming progress: shown unless a resume notice is still up, then once it is read. */
  streaming(characters: number): void {
    this.#stopTicker();
    const state: StreamState = { kind: "streaming", characters };
    const wait = this.#holdUntil - performance.now();
    if (wait <= 0) {
      this.#render(state);
      return;
    }
    this.#pending = state;
    this.#deferred ??= setTimeout(() => {
      this.#deferred = undefined;
      const pending = this.#pending;
      this.#pending = undefined;
      if (pending !== undefined) this.#render(pending);
    }, wait);
  }

  /** A resume notice ("resuming", "resumed"): stays up at least RESUME_NOTICE_MS. */
  resume(state: Extract<StreamState, { kind: "resuming" | "resumed" }>): void {
    this.#stopTicker();
    this.#holdUntil = performance.now() + RESUME_NOTICE_MS;
    this.#render(state);
  }

  /** How the answer ended: shown at once, whatever notice is up. */
  end(state: StreamState): void {
    this.#reset();
    this.#render(state);
  }

  #render(state: StreamState): void {
    const { text, tone } = describeState(state);
    this.#el.textContent = text;
    this.#el.dataset.state = state.kind;
    this.#el.dataset.tone = tone;
    this.#el.classList.toggle("error", tone === "error");
    const history = this.#el.dataset.history?.split(" ").filter((s) => s !== "") ?? [];
    if (history.at(-1) !== state.kind) this.#el.dataset.history = [...history, state.kind].join(" ");
  }

  #stopTicker(): void {
    clearInterval(this.#ticker);
    this.#ticker = undefined;
  }

  #reset(): void {
    this.#stopTicker();
    clearTimeout(this.#deferred);
    this.#deferred = undefined;
    this.#pending = undefined;
    this.#holdUntil = 0;
  }
}
