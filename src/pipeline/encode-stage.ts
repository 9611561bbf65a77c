import type { StreamItem } from "./item.ts";

/** Final stage: each item's exact text becomes one byte chunk, enqueued at once (no coalescing). */
export class EncodeStage extends TransformStream<StreamItem, Uint8Array> {
  constructor(onFirstByte?: () => void, onFlush?: () => void) {
    const encoder = new TextEncoder();
    let first = true;
    super({
      transform(item, controller) {
        controller.enqueue(encoder.encode(item.ev.raw));
        if (first && item.info.parts.length > 0) {
          first = false;
          onFirstByte?.();
        }
      },
      flush() {
        onFlush?.();
      },
    });
  }
}
