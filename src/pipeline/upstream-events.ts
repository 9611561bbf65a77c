import { SseDecoder } from "../sse/decoder.ts";
import type { SseEvent } from "../sse/types.ts";
import type { WireFormat } from "../upstream/format.ts";
import type { ItemEncoder } from "./encode-stage.ts";
import type { Inspector } from "./inspector.ts";
import type { StreamItem } from "./item.ts";
import { endSteps, type ItemStep, runSteps } from "./steps.ts";
import type { StreamState } from "./stream-state.ts";
import type { Translation } from "./translation.ts";

/** What the one source of a stream is made of. */
export interface SourceParts {
  /** The upstream's SSE body. */
  readonly body: ReadableStream<Uint8Array>;
  /** The format the upstream speaks when there is no translation (decides whether a cut event is whole). */
  readonly format: WireFormat;
  readonly state: StreamState;
  readonly inspector: Inspector;
  readonly translation: Translation | undefined;
  readonly steps: readonly ItemStep[];
  /** The client went away: abort the upstream request. */
  readonly onCancel: (reason: unknown) => void;
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
 * cancels the upstream read and calls `onCancel`, which aborts the upstream request.
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
  return eventSource(parts, { item: (item) => encoder.encode(item), end: () => [encoder.end()] });
}

/** What a source hands on: each item mapped, then what follows the last one. */
interface Output<T> {
  item(item: StreamItem): T;
  end(): readonly T[];
}

function eventSource<T>(parts: SourceParts, out: Output<T>): ReadableStream<T> {
  const { state, inspector, translation, steps, format } = parts;
  const reader = parts.body.getReader();
  // The SSE spec decodes with "UTF-8 decode": BOM stripped, invalid bytes become U+FFFD.
  const text = new TextDecoder("utf-8");
  const sse = new SseDecoder();
  /** Enqueues the items of `events` until the answer ends, returning how many there were. */
  const emit = (events: readonly SseEvent[], controller: ReadableStreamDefaultController<T>): number => {
    let n = 0;
    for (const ev of events) {
      const translated = translation === undefined ? [ev] : translation.push(ev);
      for (const t of translated) {
        for (const inspected of inspector.item(t)) {
          for (const item of runSteps(steps, inspected)) {
            controller.enqueue(out.item(item));
            n++;
          }
        }
      }
      // Whatever follows the end of the answer in the same read is not part of it.
      if (state.answerEnded) break;
    }
    return n;
  };
  /** The events still open when the body ended: an event never ended by its blank line is not dispatched. */
  const lastEvents = (): SseEvent[] =>
    [...sse.push(text.decode()), ...sse.end()].filter(
      // After a clean end the one exception is a final event that is whole (the upstream merely left
      // out its blank line); a translator judges wholeness itself. After a failed read it is a fragment.
      (ev) => ev.terminated || (!state.readFailed && (translation !== undefined || format.isWhole(ev))),
    );
  return new ReadableStream<T>(
    {
      async pull(controller) {
        // A pull that enqueues nothing is not called again (no read-ahead), so read until a whole event is out.
        while (!state.answerEnded) {
          let chunk: ReadableStreamReadResult<Uint8Array>;
          try {
            chunk = await reader.read();
          } catch {
            state.readFailed = true;
            chunk = { done: true, value: undefined };
          }
          if (chunk.done) break;
          const n = emit(sse.push(text.decode(chunk.value, { stream: true })), controller);
          if (n > 0 && !state.answerEnded) return;
        }
        if (state.answerEnded) {
          // Release the upstream now: the client's answer must not wait for the upstream to hang up.
          reader.cancel("the answer ended").catch(() => {});
        } else emit(lastEvents(), controller);
        for (const item of endItems(parts)) controller.enqueue(out.item(item));
        for (const chunk of out.end()) controller.enqueue(chunk);
        controller.close();
      },
      async cancel(reason) {
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
      for (const ev of translation.end(state)) ending.push(...inspector.item(ev));
    ending.push(...inspector.end());
  }
  const out: StreamItem[] = [];
  for (const inspected of ending) out.push(...runSteps(steps, inspected));
  out.push(...endSteps(steps));
  return out;
}
