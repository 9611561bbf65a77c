import { type SseDecodeError, SseDecoder, type SseDecoderOptions } from "./decoder.ts";
import type { SseEvent } from "./types.ts";

/**
 * Bytes in, SSE events out, as the pipeline reads an upstream body: a streaming UTF-8 decode feeding
 * {@link SseDecoder}. The SSE spec decodes with "UTF-8 decode": a leading BOM is dropped, a character
 * split across reads is rejoined, and invalid bytes become U+FFFD rather than failing the stream,
 * which is exactly TextDecoder's default (non-fatal, BOM not ignored).
 */
export class SseByteDecoder {
  readonly #text = new TextDecoder("utf-8");
  readonly #sse: SseDecoder;

  constructor(options: SseDecoderOptions = {}) {
    this.#sse = new SseDecoder(options);
  }

  /** Why decoding stopped (an event over the limit), or undefined while it goes on. */
  get error(): SseDecodeError | undefined {
    return this.#sse.error;
  }

  /** Feeds the next read; returns every event it completed, in order. */
  push(bytes: Uint8Array): SseEvent[] {
    return this.#sse.push(this.#text.decode(bytes, { stream: true }));
  }

  /**
   * The body ended: returns what was still open. A character truncated at the end decodes to U+FFFD,
   * as the spec's decoder would; a final block without its blank line has `terminated: false`.
   */
  end(): SseEvent[] {
    const last = this.#sse.push(this.#text.decode());
    const open = this.#sse.end();
    return last.length === 0 ? open : [...last, ...open];
  }
}
