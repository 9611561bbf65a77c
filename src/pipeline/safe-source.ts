import type { StreamState } from "./stream-state.ts";

/**
 * Wraps the upstream body so that a failed read (connection reset, upstream crash) ends the byte
 * stream normally and is recorded in `state`: the pipeline can then still write an in-band error
 * event instead of the runtime tearing the client's stream down silently. Cancelling it (the client
 * went away) cancels the upstream read and calls `onCancel`, which aborts the upstream request.
 */
export function safeSource(
  body: ReadableStream<Uint8Array>,
  state: StreamState,
  onCancel: (reason: unknown) => void,
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const { done, value } = await reader.read();
          if (done) controller.close();
          else controller.enqueue(value);
        } catch {
          state.readFailed = true;
          controller.close();
        }
      },
      async cancel(reason) {
        onCancel(reason);
        await reader.cancel(reason).catch(() => {});
      },
    },
    // No read-ahead: pull only when downstream asks, so backpressure reaches the upstream socket.
    { highWaterMark: 0 },
  );
}
