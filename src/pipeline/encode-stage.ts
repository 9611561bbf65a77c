import { timingComment } from "../analytics/server-timing.ts";
import type { StreamItem } from "./item.ts";
import type { StreamState } from "./stream-state.ts";

/**
 * The pure core of encoding for a directly connected client: each item's exact text becomes one
 * byte chunk (no coalescing); the end adds the timings as an SSE comment (ignored by every SSE
 * client) and decides the stream's outcome.
 */
export class ItemEncoder {
  readonly #encoder = new TextEncoder();
  readonly #state: StreamState;

  constructor(state: StreamState) {
    this.#state = state;
  }

  /** The bytes of one item, counted as sent. */
  encode(item: StreamItem): Uint8Array {
    const bytes = this.#encoder.encode(item.ev.raw);
    this.#state.metrics.bytesSent(bytes.byteLength);
    if (item.info.parts.length > 0) this.#state.metrics.firstClientContent(Date.now());
    return bytes;
  }

  /** The closing timings comment; decides the outcome, so call it once, after the last item. */
  end(): Uint8Array {
    const state = this.#state;
    const outcome = state.upstreamOutcome();
    if (state.outputTokens !== undefined) state.metrics.usage(state.outputTokens);
    const bytes = this.#encoder.encode(timingComment(state.metrics.snapshot(Date.now())));
    state.finish(outcome);
    return bytes;
  }
}
