import { timingComment } from "../analytics/server-timing.ts";
import type { StreamItem } from "./item.ts";
import type { StreamState } from "./stream-state.ts";

/**
 * Final stage for a directly connected client: each item's exact text becomes one byte chunk,
 * enqueued at once (no coalescing). At the end it adds the timings as an SSE comment (ignored by
 * every SSE client) and decides the stream's outcome.
 */
export class EncodeStage extends TransformStream<StreamItem, Uint8Array> {
  constructor(state: StreamState) {
    const encoder = new TextEncoder();
    super({
      transform(item, controller) {
        const bytes = encoder.encode(item.ev.raw);
        controller.enqueue(bytes);
        state.metrics.bytesSent(bytes.byteLength);
        if (item.info.parts.length > 0) state.metrics.firstClientContent(Date.now());
      },
      flush(controller) {
        const outcome = state.upstreamOutcome();
        if (state.outputTokens !== undefined) state.metrics.usage(state.outputTokens);
        controller.enqueue(encoder.encode(timingComment(state.metrics.snapshot(Date.now()))));
        state.finish(outcome);
      },
    });
  }
}
