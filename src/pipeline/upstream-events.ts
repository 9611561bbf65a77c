import { ERROR_CODE } from "../protocol.ts";
import { SseByteDecoder } from "../sse/byte-decoder.ts";
import type { SseDecodeError } from "../sse/decoder.ts";
import type { SseEvent } from "../sse/types.ts";
import type { InBandError, WireFormat } from "../upstream/format.ts";
import type { BodySource } from "./body-source.ts";
import type { ItemEncoder } from "./encode-stage.ts";
import type { Inspector } from "./inspector.ts";
import type { StreamItem } from "./item.ts";
import { QuietTimer } from "./quiet-timer.ts";
import { endSteps, type ItemStep, runSteps } from "./steps.ts";
import type { StreamState } from "./stream-state.ts";
import type { Translation } from "./translation.ts";

/** What the one source of a stream is made of. */
export interface SourceParts {
  /** The upstream's SSE body. */
  /** The upstream's SSE bytes (its body, or its body with the first chunks replayed: body-source.ts). */
  readonly body: BodySource;
  /** The format the upstream speaks when there is no translation (decides whether a cut event is whole). */
  readonly format: WireFormat;
  readonly state: StreamState;
  readonly inspector: Inspector;
  readonly translation: Translation | undefined;
  readonly steps: readonly ItemStep[];
  /**
   * The longest upstream event read, in UTF-16 code units of its text (never more than its UTF-8
   * bytes, see SseDecoderOptions); a longer one ends the stream with `upstream_event_too_large`.
   */
  readonly maxEventLength: number;
  /** Aborts the upstream request (an event over the limit: nothing more of it is read). */
  readonly abortUpstream: (reason: string) => void;
  /** The client went away: abort the upstream request. */
  readonly onCancel: (reason: unknown) => void;
  /** Silence limits; absent: none (tests, benchmarks of the bare pipeline). */
  readonly watch?: StreamWatch | undefined;
}

/** The in-band error for an upstream event over the limit. */
function tooLarge(error: SseDecodeError): InBandError {
  return {
    code: ERROR_CODE.upstreamEventTooLarge,
    message: `the upstream sent an event longer than the gateway's limit of ${error.limit} characters; the answer is incomplete`,
  };
}

/**
 * The first stage of every stream: reads the upstream body, decodes SSE, translates (if the provider's
 * format is not the client's) and inspects, all in one step per upstream read. These steps are pure
 * and synchronous, so fusing them saves a runtime stream hop per event (each costs more on workerd than
 * the work itself) without buffering: whatever one read completes is handed on at once.
 *
 * The answer ends at its end marker (`[DONE]`, `message_stop`, `response.completed`) or when a step
 * stops it (a guardrail block): the source then releases the upstream and closes at once, whether or
 * not the upstream ever hangs up. A failed read (connection reset) ends the stream with
 * `state.readFailed` set, so an in-band error can still be written; cancelling (the client went away)
 * cancels the upstream read and calls `onCancel`, which aborts the upstream request. An upstream event
 * longer than `maxEventLength` (one that never ends would otherwise grow memory without bound) stops
 * the stream as `interrupted`: the upstream is aborted and the client gets `upstream_event_too_large`.
 */
export function upstreamEvents(parts: SourceParts): ReadableStream<StreamItem> {
  return eventSource(parts, { item: (item) => item, end: () => [] });
}

/**
 * The same source with the client encoding fused in, for a directly connected client: one runtime
 * stream from upstream bytes to client bytes, since each extra stream costs more per event on
 * workerd than the work it carries.
 */
export function upstreamBytes(parts: SourceParts, encoder: ItemEncoder): ReadableStream<Uint8Array> {
  return eventSource(parts, {
    item: (item) => encoder.encode(item),
    end: () => [encoder.end()],
    keepAlive: () => KEEPALIVE,
  });
}

/** How long a stream may be silent (ms; 0 turns a limit off). */
export interface StreamWatch {
  /** Nothing written to the client this long: an SSE comment keeps proxies from cutting it. */
  readonly keepAliveMs: number;
  /** After the first token, nothing from the upstream this long: the attempt has stalled. */
  readonly idleTimeoutMs: number;
  /** Before the first token, nothing this long: the attempt has stalled (reasoning models think long). */
  readonly firstTokenTimeoutMs: number;
}

/** A keep-alive: an SSE comment every client ignores; never numbered, stored or counted. */
const KEEPALIVE = new TextEncoder().encode(": keepalive\n\n");

/** What a source hands on: each item mapped, then what follows the last one. */
interface Output<T> {
  item(item: StreamItem): T;
  end(): readonly T[];
  /** The keep-alive, for a client connected directly (a stored stream's session writes its own). */
  keepAlive?(): T;
}

function eventSource<T>(parts: SourceParts, out: Output<T>): ReadableStream<T> {
  const { state, inspector, translation, steps, format } = parts;
  const reader = parts.body;
  const sse = new SseByteDecoder({ maxEventLength: parts.maxEventLength });
  const watch = parts.watch;
  let live: ReadableStreamDefaultController<T> | undefined;
  // The stall watchdog counts only while a read of the upstream is under way: a client that is slow to
  // pull is backpressure, not an upstream that went silent.
  let reading = false;
  let contentSeen = false;
  let stalled: { readonly ms: number } | undefined;
  const watchdog =
    watch === undefined || (watch.idleTimeoutMs <= 0 && watch.firstTokenTimeoutMs <= 0)
      ? undefined
      : new QuietTimer(
          () => (contentSeen ? watch.idleTimeoutMs : watch.firstTokenTimeoutMs) || Number.POSITIVE_INFINITY,
          () => {
            if (!reading) return;
            stalled = { ms: contentSeen ? watch.idleTimeoutMs : watch.firstTokenTimeoutMs };
            // Ends the pending read; the pull then writes the stall's in-band error.
            reader.cancel("upstream stalled").catch(() => {});
          },
        );
  const keepAlive = (() => {
    const make = out.keepAlive;
    if (watch === undefined || watch.keepAliveMs <= 0 || make === undefined) return undefined;
    const timer: QuietTimer = new QuietTimer(
      () => watch.keepAliveMs,
      () => {
        try {
          live?.enqueue(make());
        } catch {
          // The stream is no longer open (it errored): nothing to keep alive.
          timer.stop();
        }
      },
    );
    return timer;
  })();
  const stopTimers = () => {
    watchdog?.stop();
    keepAlive?.stop();
  };
  /** Runs inspected items through the steps and enqueues what comes out, returning how many did. */
  const send = (inspected: readonly StreamItem[], controller: ReadableStreamDefaultController<T>): number => {
    let n = 0;
    for (const one of inspected) {
      if (!contentSeen && one.info.parts.length > 0) {
        contentSeen = true;
        // The idle limit applies from now on, judged from now.
        watchdog?.reset();
      }
      for (const item of runSteps(steps, one)) {
        controller.enqueue(out.item(item));
        n++;
      }
    }
    if (n > 0) keepAlive?.touch();
    return n;
  };
  /** Enqueues the items of `events` until the answer ends, returning how many there were. */
  const emit = (events: readonly SseEvent[], controller: ReadableStreamDefaultController<T>): number => {
    let n = 0;
    for (const ev of events) {
      if (translation === undefined) n += send(inspector.item(ev), controller);
      else for (const t of translation.push(ev)) n += send(inspector.item(t.ev, t.info), controller);
      // Whatever follows the end of the answer in the same read is not part of it.
      if (state.answerEnded) break;
    }
    // The decoder refused an event: the answer stops here, unless it had already ended before it.
    if (sse.error !== undefined && !state.answerEnded) {
      const error = tooLarge(sse.error);
      n += send(inspector.stop(error), controller);
      parts.abortUpstream(error.code);
    }
    return n;
  };
  /** The events still open when the body ended: an event never ended by its blank line is not dispatched. */
  const lastEvents = (): SseEvent[] =>
    sse.end().filter(
      // After a clean end the one exception is a final event that is whole (the upstream merely left
      // out its blank line); a translator judges wholeness itself. After a failed read it is a fragment.
      (ev) => ev.terminated || (!state.readFailed && (translation !== undefined || format.isWhole(ev))),
    );
  return new ReadableStream<T>(
    {
      start(controller) {
        live = controller;
      },
      async pull(controller) {
        // A pull that enqueues nothing is not called again (no read-ahead), so read until a whole event is out.
        while (!state.answerEnded) {
          let chunk: ReadableStreamReadResult<Uint8Array>;
          reading = true;
          watchdog?.touch();
          try {
            chunk = await reader.read();
          } catch {
            state.readFailed = true;
            chunk = { done: true, value: undefined };
          } finally {
            reading = false;
          }
          if (stalled !== undefined) {
            const error = {
              code: ERROR_CODE.upstreamStalled,
              message: contentSeen
                ? `the upstream sent nothing for ${stalled.ms} ms in the middle of the answer`
                : `the upstream sent no first token within ${stalled.ms} ms`,
            };
            send(inspector.stop(error), controller);
            parts.abortUpstream(error.code);
            break;
          }
          if (chunk.done) break;
          const n = emit(sse.push(chunk.value), controller);
          if (n > 0 && !state.answerEnded) return;
        }
        if (state.answerEnded) {
          // Release the upstream now: the client's answer must not wait for the upstream to hang up.
          reader.cancel("the answer ended").catch(() => {});
        } else emit(lastEvents(), controller);
        for (const item of endItems(parts)) controller.enqueue(out.item(item));
        for (const chunk of out.end()) controller.enqueue(chunk);
        stopTimers();
        controller.close();
      },
      async cancel(reason) {
        stopTimers();
        parts.onCancel(reason);
        await reader.cancel(reason).catch(() => {});
      },
    },
    // No read-ahead: read upstream only when downstream asks, so backpressure reaches the upstream socket.
    { highWaterMark: 0 },
  );
}

/** What follows the upstream's last event: the translation's and inspector's endings, then the steps' own. */
function endItems({ state, inspector, translation, steps }: SourceParts): StreamItem[] {
  const ending: StreamItem[] = [];
  // A stream a step stopped (a block) has had its ending already; nothing may follow it.
  if (state.stoppedBy === undefined) {
    if (translation !== undefined)
      for (const t of translation.end(state)) ending.push(...inspector.item(t.ev, t.info));
    ending.push(...inspector.end());
  }
  const out: StreamItem[] = [];
  for (const inspected of ending) out.push(...runSteps(steps, inspected));
  out.push(...endSteps(steps));
  return out;
}
