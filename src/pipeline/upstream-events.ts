import { SseDecoder } from "../sse/decoder.ts";
import type { SseEvent } from "../sse/types.ts";
import type { ItemEncoder } from "./encode-stage.ts";
import type { Inspector } from "./inspector.ts";
import type { StreamItem } from "./item.ts";
import { endSteps, type ItemStep, runSteps } from "./steps.ts";
import type { StreamState } from "./stream-state.ts";
import type { Translation } from "./translation.ts";

/**
 * The first stage of every stream: reads the upstream body, decodes SSE, translates (if the provider's
 * format is not the client's) and inspects, all in one step per upstream read. These steps are pure
 * and synchronous, so fusing them saves a runtime stream hop per event (each costs more on workerd than
 * the work itself) without buffering: whatever one read completes is handed on at once.
 *
 * A failed read (connection reset) ends the stream normally with `state.readFailed` set, so an in-band
 * error can still be written; cancelling (the client went away) cancels the upstream read and calls
 * `onCancel`, which aborts the upstream request.
 */
export function upstreamEvents(
  body: ReadableStream<Uint8Array>,
  state: StreamState,
  inspector: Inspector,
  translation: Translation | undefined,
  steps: readonly ItemStep[],
  onCancel: (reason: unknown) => void,
): ReadableStream<StreamItem> {
  return eventSource(body, state, inspector, translation, steps, onCancel, {
    item: (item) => item,
    end: () => [],
  });
}

/**
 * The same source with the client encoding fused in, for a directly connected client: one runtime
 * stream from upstream bytes to client bytes, since each extra stream costs more per event on
 * workerd than the work it carries.
 */
export function upstreamBytes(
  body: ReadableStream<Uint8Array>,
  state: StreamState,
  inspector: Inspector,
  translation: Translation | undefined,
  steps: readonly ItemStep[],
  onCancel: (reason: unknown) => void,
  encoder: ItemEncoder,
): ReadableStream<Uint8Array> {
  return eventSource(body, state, inspector, translation, steps, onCancel, {
    item: (item) => encoder.encode(item),
    end: () => [encoder.end()],
  });
}

/** What a source hands on: each item mapped, then what follows the last one. */
interface Output<T> {
  item(item: StreamItem): T;
  end(): readonly T[];
}

function eventSource<T>(
  body: ReadableStream<Uint8Array>,
  state: StreamState,
  inspector: Inspector,
  translation: Translation | undefined,
  steps: readonly ItemStep[],
  onCancel: (reason: unknown) => void,
  out: Output<T>,
): ReadableStream<T> {
  const reader = body.getReader();
  // The SSE spec decodes with "UTF-8 decode": BOM stripped, invalid bytes become U+FFFD.
  const text = new TextDecoder("utf-8");
  const sse = new SseDecoder();
  /** Enqueues the items of `events`, returning how many there were. */
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
    }
    return n;
  };
  return new ReadableStream<T>(
    {
      async pull(controller) {
        // A pull that enqueues nothing is not called again (no read-ahead), so read until a whole event is out.
        let chunk: ReadableStreamReadResult<Uint8Array>;
        for (;;) {
          try {
            chunk = await reader.read();
          } catch {
            state.readFailed = true;
            chunk = { done: true, value: undefined };
          }
          if (chunk.done) break;
          if (emit(sse.push(text.decode(chunk.value, { stream: true })), controller) > 0) return;
        }
        emit([...sse.push(text.decode()), ...sse.end()], controller);
        const ending: StreamItem[] = [];
        if (translation !== undefined)
          for (const ev of translation.end(state)) ending.push(...inspector.item(ev));
        ending.push(...inspector.end());
        for (const inspected of ending)
          for (const item of runSteps(steps, inspected)) controller.enqueue(out.item(item));
        for (const item of endSteps(steps)) controller.enqueue(out.item(item));
        for (const chunk of out.end()) controller.enqueue(chunk);
        controller.close();
      },
      async cancel(reason) {
        onCancel(reason);
        await reader.cancel(reason).catch(() => {});
      },
    },
    // No read-ahead: read upstream only when downstream asks, so backpressure reaches the upstream socket.
    { highWaterMark: 0 },
  );
}
