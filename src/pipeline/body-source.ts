/**
 * Where the pipeline reads upstream bytes from: a body's reader, or a body whose first chunks were
 * already read (to find the first token before choosing an attempt) followed by the rest of it. The
 * source reads the reader directly, so a replayed body costs no extra runtime stream hop.
 */
export interface BodySource {
  read(): Promise<ReadableStreamReadResult<Uint8Array>>;
  cancel(reason?: unknown): Promise<void>;
}

/** `body` read from its first byte. */
export function bodySource(body: ReadableStream<Uint8Array>): BodySource {
  return replaySource([], body.getReader());
}

/**
 * `held` (chunks already read from `reader`) again, then `pending` (a read of `reader` already under
 * way, if any), then the rest of `reader`.
 */
export function replaySource(
  held: readonly Uint8Array[],
  reader: ReadableStreamDefaultReader<Uint8Array>,
  pending?: Promise<ReadableStreamReadResult<Uint8Array>>,
): BodySource {
  let next = 0;
  let inFlight = pending;
  return {
    read() {
      const chunk = held[next];
      if (chunk !== undefined) {
        next++;
        return Promise.resolve({ done: false, value: chunk });
      }
      if (inFlight !== undefined) {
        const read = inFlight;
        inFlight = undefined;
        return read;
      }
      return reader.read();
    },
    cancel: (reason) => reader.cancel(reason),
  };
}
