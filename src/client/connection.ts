import { type SseMessage, SseReader } from "./sse-reader.ts";

/** How one connection ended: with the `[DONE]` sentinel, or broken (closed early or failed) and resumable. */
export type ConnectionEnd = { readonly kind: "done" } | { readonly kind: "broken"; readonly error: unknown };

/** The end of a connection that delivered the sentinel. */
export const CONNECTION_DONE: ConnectionEnd = { kind: "done" };

/** The end of a connection that broke; `error` is the network error, if there was one. */
export function broken(error: unknown): ConnectionEnd {
  return { kind: "broken", error };
}

/** What a connection hands its messages to. */
export interface ConnectionHandlers {
  /** Applies one message; true when it was the sentinel. */
  readonly onMessage: (message: SseMessage) => boolean;
  /** Sees one comment line (a keep-alive, the closing timings). */
  readonly onComment: (text: string) => void;
  /** Throws when the caller aborted: checked after every read. */
  readonly checkAborted: () => void;
}

/**
 * Reads one SSE response body, handing each message to `onMessage` until it returns true (the
 * sentinel), then reads on to the end of the body for up to `trailerWaitMs`: the gateway's timings
 * comment follows the sentinel. Errors thrown by the handlers propagate: they end the whole stream,
 * whereas a failed read only ends this connection.
 */
export async function readConnection(
  body: ReadableStream<Uint8Array>,
  controller: AbortController,
  handlers: ConnectionHandlers,
  trailerWaitMs: number,
): Promise<ConnectionEnd> {
  const reader: ReadableStreamDefaultReader<Uint8Array> = body.getReader();
  const parser = new SseReader({ onComment: handlers.onComment });
  try {
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (error) {
        handlers.checkAborted();
        return broken(error);
      }
      handlers.checkAborted();
      if (chunk.done) break;
      for (const message of parser.push(chunk.value)) {
        if (!handlers.onMessage(message)) continue;
        await readRest(reader, parser, trailerWaitMs);
        // An abort while waiting wins: a stream the caller stopped never reports a result.
        handlers.checkAborted();
        return CONNECTION_DONE;
      }
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

/**
 * After the sentinel the answer is complete; what may follow is the trailer, then the end of the body.
 * Reads to that end, or for `waitMs`, whichever is first: a server that holds the connection open
 * after `[DONE]` delays the result by at most that, and a read that fails here loses only the timings.
 * Reading to the end also lets a finished response complete instead of being cut (a browser reports
 * a cut one as a failed request).
 */
async function readRest(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  parser: SseReader,
  waitMs: number,
): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), waitMs);
  });
  try {
    for (;;) {
      const next = await Promise.race([reader.read(), timeout]);
      if (next === "timeout" || next.done) return;
      // Messages after the sentinel are not part of the answer; only the comment callback matters here.
      parser.push(next.value);
    }
  } catch {
    // The connection broke after the answer was complete: nothing of the answer is lost.
  } finally {
    clearTimeout(timer);
  }
}
