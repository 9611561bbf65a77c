import { type SseMessage, SseReader } from "./sse-reader.ts";

/** How one connection ended: with the `[DONE]` sentinel, or broken (closed early or failed) and resumable. */
export type ConnectionEnd = { readonly kind: "done" } | { readonly kind: "broken"; readonly error: unknown };

/** The end of a connection that delivered the sentinel. */
export const CONNECTION_DONE: ConnectionEnd = { kind: "done" };

/** The end of a connection that broke; `error` is the network error, if there was one. */
export function broken(error: unknown): ConnectionEnd {
  return { kind: "broken", error };
}

/**
 * Reads one SSE response body, handing each message to `onMessage` until it returns true (the
 * sentinel). Errors thrown by `onMessage` or `checkAborted` propagate: they end the whole stream,
 * whereas a failed read only ends this connection.
 */
export async function readConnection(
  body: ReadableStream<Uint8Array>,
  controller: AbortController,
  onMessage: (message: SseMessage) => boolean,
  checkAborted: () => void,
): Promise<ConnectionEnd> {
  const reader: ReadableStreamDefaultReader<Uint8Array> = body.getReader();
  const parser = new SseReader();
  try {
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (error) {
        checkAborted();
        return broken(error);
      }
      checkAborted();
      if (chunk.done) break;
      for (const message of parser.push(chunk.value)) if (onMessage(message)) return CONNECTION_DONE;
    }
    // Ended without `[DONE]`: an event cut before its blank line is dropped here, never half-applied.
    parser.end();
    return broken(undefined);
  } finally {
    // Whatever ended this connection (sentinel, final error, abort), stop the network read.
    controller.abort();
    reader.cancel().catch(() => undefined);
  }
}
