import { SseDecoder } from "./decoder.ts";
import type { SseEvent } from "./types.ts";

/**
 * Bytes in, SSE events out: a streaming UTF-8 decode (leading BOM dropped, characters split across
 * reads rejoined) feeding {@link SseDecoder}. Each event is enqueued as soon as its blank line is read.
 */
export class SseDecodeStream extends TransformStream<Uint8Array, SseEvent> {
  constructor() {
    // The SSE spec decodes with "UTF-8 decode": BOM stripped, invalid bytes become U+FFFD rather
    // than failing the stream, which is exactly TextDecoder's default (non-fatal, BOM not ignored).
    const text = new TextDecoder("utf-8");
    const sse = new SseDecoder();
    super({
      transform(chunk, controller) {
        for (const event of sse.push(text.decode(chunk, { stream: true }))) controller.enqueue(event);
      },
      flush(controller) {
        // A truncated multi-byte character at EOF decodes to U+FFFD here, as the spec's decoder would.
        for (const event of sse.push(text.decode())) controller.enqueue(event);
        for (const event of sse.end()) controller.enqueue(event);
      },
    });
  }
}
