import { TIMING_COMMENT_NAME } from "../analytics/server-timing.ts";
import { SseByteDecoder } from "../sse/byte-decoder.ts";
import type { SseEvent } from "../sse/types.ts";

/** The data payload that ends an OpenAI stream; on the socket it becomes `stream.done`. */
const DONE = "[DONE]";
const TIMINGS_PREFIX = `: ${TIMING_COMMENT_NAME} `;

/** Where a relay puts a stream's events. */
export interface RelaySink {
  /**
   * Sends event `id` whose data is `data` (JSON text); false when the socket's send buffer is past
   * its bound, which stops this relay (the reader is too slow; it can resume later).
   */
  event(id: number, data: string): boolean;
}

/** How a relayed stream ended on this socket. */
export type RelayEnd =
  /** `[DONE]` arrived; `timings` is the JSON of the closing timings comment, when it came. */
  | { readonly kind: "done"; readonly timings: string | undefined }
  /** The stream ended with its own in-band error event (`error` is that event's JSON). */
  | { readonly kind: "error"; readonly error: string }
  /** The body ended with neither `[DONE]` nor an error event (a cut connection to the object). */
  | { readonly kind: "ended" }
  /** The send buffer passed its bound after event `after`. */
  | { readonly kind: "slow"; readonly after: number }
  /** The socket (or a cancel) stopped the relay. */
  | { readonly kind: "aborted" };

/** True for a JSON object with a top-level `error`: the gateway's in-band error event. */
function isErrorEvent(value: unknown): boolean {
  return typeof value === "object" && value !== null && !Array.isArray(value) && "error" in value;
}

/**
 * Reads one stream's SSE body (what `POST /v1/chat/completions` or `GET /v1/streams/{id}` answers)
 * and hands each numbered event to `sink`, its data unchanged: the socket and SSE views of a stream
 * carry the same ids and payloads. Keep-alive comments and `retry:` hints are the SSE transport's own
 * and are not relayed. A data payload that is not JSON (an upstream's own malformed event, forwarded
 * as it came) is sent as a JSON string, so the frame itself always parses.
 */
export async function relayStream(
  body: ReadableStream<Uint8Array>,
  sink: RelaySink,
  signal: AbortSignal,
): Promise<RelayEnd> {
  const reader = body.getReader();
  const decoder = new SseByteDecoder();
  const onAbort = () => void reader.cancel().catch(() => {});
  signal.addEventListener("abort", onAbort, { once: true });
  let done = false;
  let timings: string | undefined;
  let lastError: string | undefined;
  let last = 0;
  const take = (ev: SseEvent): "slow" | undefined => {
    if (!ev.hasData) {
      // The comment's line only: the block may also carry the trailer's `id:` line.
      if (ev.raw.startsWith(TIMINGS_PREFIX))
        timings = ev.raw.slice(TIMINGS_PREFIX.length).split(/\r\n|\r|\n/)[0];
      return undefined;
    }
    if (ev.data === DONE) {
      done = true;
      return undefined;
    }
    const id = ev.id === undefined ? 0 : Number(ev.id);
    let data = ev.data;
    try {
      if (isErrorEvent(JSON.parse(data))) lastError = data;
    } catch {
      data = JSON.stringify(data);
    }
    if (!sink.event(id, data)) return "slow";
    last = id;
    return undefined;
  };
  try {
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch {
        break;
      }
      if (signal.aborted) return { kind: "aborted" };
      if (chunk.done) {
        for (const ev of decoder.end())
          if (ev.terminated && take(ev) === "slow") return { kind: "slow", after: last };
        break;
      }
      for (const ev of decoder.push(chunk.value))
        if (take(ev) === "slow") return { kind: "slow", after: last };
    }
  } finally {
    signal.removeEventListener("abort", onAbort);
    reader.cancel().catch(() => {});
  }
  if (signal.aborted) return { kind: "aborted" };
  if (done) return { kind: "done", timings };
  return lastError === undefined ? { kind: "ended" } : { kind: "error", error: lastError };
}
