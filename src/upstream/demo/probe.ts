/**
 * The demo provider's `probe` model: ordinary `chat.completion.chunk` events at a known cadence, each
 * stamped with its sequence number and the time it left the worker, so `npm run doctor` can tell how
 * every layer between the gateway and a client delivered them.
 */
import { PROBE_FIELD, PROBE_LIMITS, PROBE_TOKEN, type ProbeParams } from "./probe-params.ts";

/** The stamp every probe event carries beside `choices`, outside the text the guardrail reads. */
export interface ProbeStamp {
  readonly seq: number;
  /** `Date.now()` in the worker when the event was enqueued. */
  readonly sentAt: number;
  readonly padding?: string;
}

/** Fields of every chunk of one answer (`id`, `object`, `created`, `model`). */
export type ChunkBase = Readonly<Record<string, unknown>>;

const encoder = new TextEncoder();

function sse(obj: unknown): Uint8Array {
  return encoder.encode(`data: ${JSON.stringify(obj)}\n\n`);
}

// Pseudo-random letters (a fixed xorshift, no digits so no guardrail rule can match), built once: a
// repeated letter would compress to nothing and hide the buffers of a compressing proxy.
let paddingSource: string | undefined;
function paddingFor(seq: number, bytes: number): string {
  if (bytes === 0) return "";
  if (paddingSource === undefined) {
    const letters: string[] = [];
    let x = 0x9e3779b9;
    for (let i = 0; i < PROBE_LIMITS.payloadBytes.max + 4096; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      letters.push(String.fromCharCode(97 + ((x >>> 0) % 26)));
    }
    paddingSource = letters.join("");
  }
  const offset = (seq * 4093) % 4096;
  return paddingSource.slice(offset, offset + bytes);
}

/** The chunk of probe event `seq` (1-based); the first also opens the assistant message. */
export function probeChunk(base: ChunkBase, params: ProbeParams, seq: number, sentAt: number): unknown {
  const delta = seq === 1 ? { role: "assistant", content: PROBE_TOKEN } : { content: PROBE_TOKEN };
  const padding = paddingFor(seq, params.payloadBytes);
  const stamp: ProbeStamp = padding === "" ? { seq, sentAt } : { seq, sentAt, padding };
  return { ...base, choices: [{ index: 0, delta, finish_reason: null }], [PROBE_FIELD]: stamp };
}

/** Milliseconds to wait before event `seq`: none before the first, the pause where asked, else the interval. */
export function delayBefore(params: ProbeParams, seq: number): number {
  if (seq === 1) return params.pauseAtEvent === 1 ? params.pauseMs : 0;
  return seq === params.pauseAtEvent ? params.pauseMs : params.intervalMs;
}

/** Waits `ms`, or less if `signal` aborts first. */
export type Sleep = (ms: number, signal: AbortSignal | undefined) => Promise<void>;

/** How one probe answer is sent. */
export interface ProbeStreamOptions {
  readonly base: ChunkBase;
  readonly params: ProbeParams;
  /** The usage chunk to send after the finish chunk, when the request asked for usage. */
  readonly usage: unknown;
  readonly signal: AbortSignal | undefined;
  readonly sleep: Sleep;
  readonly now?: () => number;
}

/**
 * The probe's SSE body: `events` stamped chunks, a finish chunk, the usage chunk if asked, `[DONE]`.
 * It stops at once, without closing, when the request is aborted or the body cancelled (the client
 * left: nobody reads the end), like the other demo streams.
 */
export function probeStream(options: ProbeStreamOptions): ReadableStream<Uint8Array> {
  const { base, params, usage, signal, sleep } = options;
  const now = options.now ?? Date.now;
  let cancelled = false;
  return new ReadableStream<Uint8Array>({
    cancel() {
      cancelled = true;
    },
    async start(controller) {
      for (let seq = 1; seq <= params.events; seq++) {
        await sleep(delayBefore(params, seq), signal);
        if (signal?.aborted || cancelled) return;
        controller.enqueue(sse(probeChunk(base, params, seq, now())));
      }
      controller.enqueue(sse({ ...base, choices: [{ index: 0, delta: {}, finish_reason: "stop" }] }));
      if (usage !== undefined) controller.enqueue(sse({ ...base, choices: [], usage }));
      controller.enqueue(encoder.encode("data: [DONE]\n\n"));
      controller.close();
    },
  });
}
