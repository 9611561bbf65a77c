import { ERROR_CODE } from "../protocol.ts";
import { SseByteDecoder } from "../sse/byte-decoder.ts";
import type { SseDecodeError } from "../sse/decoder.ts";
import { commentEvent } from "../sse/encode.ts";
import type { SseEvent } from "../sse/types.ts";
import type { EventInfo, InBandError, Seam, WireFormat } from "../upstream/format.ts";
import type { BodySource } from "./body-source.ts";
import type { ItemEncoder } from "./encode-stage.ts";
import type { Inspector } from "./inspector.ts";
import type { StreamItem } from "./item.ts";
import { QuietTimer } from "./quiet-timer.ts";
import { asyncStep, endSteps, type ItemStep, runSteps } from "./steps.ts";
import type { StreamState } from "./stream-state.ts";
import type { TranslatedEvent, Translation } from "./translation.ts";

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
  /** Continues an answer cut mid-stream from another attempt; absent: the explicit in-band error. */
  readonly resumer?: Resumer | undefined;
}

/** What a continuation is told of the answer it continues. */
export interface CutAnswer {
  /** The answer's text so far (the format's answer channel), as the upstream wrote it. */
  readonly delivered: string;
  /** The data of the first event with data, from which the format reads the answer's identity. */
  readonly firstData: string | undefined;
  /** Output tokens the upstream reported so far (0 when it reported none). */
  readonly outputTokens: number;
}

/** The next attempt's events, and the seam that joins them to the answer. */
export interface Resumed {
  readonly body: BodySource;
  readonly translation: Translation | undefined;
  readonly seam: Seam;
}

/** The continuation port: opens the next attempt that can continue a cut answer, if any is left. */
export interface Resumer {
  next(why: InBandError, cut: CutAnswer): Promise<Resumed | undefined>;
}

/** What the gateway's own marker comment carries: no text. */
const NO_TEXT: EventInfo = { parts: [] };

/** The in-band error for an upstream event over the limit. */
function tooLarge(error: SseDecodeError): InBandError {
  return {
    code: ERROR_CODE.upstreamEventTooLarge,
    message: `the upstream sent an event longer than the gateway's limit of ${error.limit} characters; the answer is incomplete`,
  };
}

/**
 * The source of a stored stream, driven to its end by itself: each item is put into the stream's
 * session as soon as it is out, whether or not anyone reads it. No runtime stream carries the items
 * (the session's readers are the one stream out of the object): a stream between the pipeline and the
 * session cost a promise, a pull and an enqueue per event, more than the work it carried.
 */
export function driveEvents(parts: SourceParts, put: (item: StreamItem) => void): DrivenEvents {
  let stopped = false;
  const core = eventCore(parts, { item: (item) => item, end: () => [] }, (item) => {
    if (!stopped) put(item);
  });
  const done = (async () => {
    while (!stopped && (await core.advance())) {}
  })();
  return {
    done,
    cancel(reason) {
      if (stopped) return;
      stopped = true;
      core.cancel(reason).catch(() => {});
    },
  };
}

/** A source driven to its end by itself (see driveEvents). */
export interface DrivenEvents {
  /** Settles once the last item was put (rejects if the pipeline itself failed). */
  readonly done: Promise<void>;
  /** Stops reading (the stream ended early: cancel, limits); nothing more is put. */
  cancel(reason: string): void;
}

/**
 * The same source with the client encoding fused in, for a directly connected client: one runtime
 * stream from upstream bytes to client bytes, since each extra stream costs more per event on
 * workerd than the work it carries.
 */
export function upstreamBytes(parts: SourceParts, encoder: ItemEncoder): ReadableStream<Uint8Array> {
  return eventStream(parts, {
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

/** A source as a runtime stream: read by the runtime as its client pulls, no read-ahead. */
function eventStream<T>(parts: SourceParts, out: Output<T>): ReadableStream<T> {
  let live: ReadableStreamDefaultController<T> | undefined;
  const core = eventCore(parts, out, (t) => live?.enqueue(t));
  return new ReadableStream<T>(
    {
      start(controller) {
        live = controller;
      },
      async pull(controller) {
        if (!(await core.advance())) controller.close();
      },
      cancel: (reason) => core.cancel(reason),
    },
    // No read-ahead: read upstream only when downstream asks, so backpressure reaches the upstream socket.
    { highWaterMark: 0 },
  );
}

/** One source: `advance` reads until at least one item is out (true) or the stream is over (false). */
interface EventCore {
  advance(): Promise<boolean>;
  cancel(reason: unknown): Promise<void>;
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
function eventCore<T>(parts: SourceParts, out: Output<T>, put: (t: T) => void): EventCore {
  const { state, inspector, steps, format } = parts;
  // A continuation swaps these for the next attempt's (see `resume`).
  let reader = parts.body;
  let translation = parts.translation;
  let seam: Seam | undefined;
  let sse = new SseByteDecoder({ maxEventLength: parts.maxEventLength });
  const watch = parts.watch;
  // The stall watchdog counts only while a read of the upstream is under way: a client that is slow to
  // pull is backpressure, not an upstream that went silent.
  let reading = false;
  let contentSeen = false;
  let stalled: { readonly ms: number } | undefined;
  // What a continuation needs to know of the answer so far (tracked only when one is possible).
  const continuing = parts.resumer === undefined ? undefined : format.continuation;
  // The answer's text in pieces, joined only when a continuation needs it (never per event).
  const delivered: string[] = [];
  let onlyAnswerText = true;
  /** A finish reason reached the client: the answer was over, whatever followed is not continued. */
  let finished = false;
  let firstData: string | undefined;
  /** A failure a continuation may repair, met while emitting, and the first one (what the client gets if none can). */
  let pending: InBandError | undefined;
  let original: InBandError | undefined;
  /** The failure a continuation now repairs, until its first event passes the seam. */
  let marker: InBandError | undefined;
  /** The reader went away (client gone, cancel): nothing is continued after that. */
  let cancelled = false;
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
          put(make());
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
  // A last step that releases items later (a guardrail classifier's verdict): they go to the client as
  // they come, and a block it decides releases the upstream read at once. Absent, nothing here runs.
  const later = asyncStep(steps);
  later?.attach((items) => {
    try {
      for (const item of items) put(out.item(item));
    } catch {
      // The stream is no longer open (cancelled): nothing to deliver.
      return;
    }
    if (items.length > 0) keepAlive?.touch();
    if (state.answerEnded) reader.cancel("the answer ended").catch(() => {});
  });
  /** Runs inspected items through the steps and enqueues what comes out, returning how many did. */
  const send = (inspected: readonly StreamItem[]): number => {
    let n = 0;
    for (const one of inspected) {
      if (!contentSeen && one.info.parts.length > 0) {
        contentSeen = true;
        // The idle limit applies from now on, judged from now.
        watchdog?.reset();
      }
      if (continuing !== undefined) {
        if (firstData === undefined && one.ev.hasData) firstData = one.ev.data;
        for (const p of one.info.parts) {
          if (p.channel === continuing.channel) delivered.push(p.text);
          else onlyAnswerText = false;
        }
        if (one.info.nonText === true) onlyAnswerText = false;
        if (one.info.finishReason !== undefined) finished = true;
      }
      for (const item of runSteps(steps, one)) {
        put(out.item(item));
        n++;
      }
    }
    if (n > 0) keepAlive?.touch();
    return n;
  };
  /** Whether a failure now could be repaired: text of the answer alone delivered, the stream not stopped. */
  const canContinue = () =>
    continuing !== undefined &&
    delivered.length > 0 &&
    onlyAnswerText &&
    !finished &&
    // An error the client already saw (an upstream's own error chunk) is not hidden by a continuation.
    state.upstreamError === undefined &&
    state.stoppedBy === undefined &&
    // An answer ended on purpose (cancelled, the client gone, a limit) is over: nothing continues it.
    state.outcome === undefined &&
    !cancelled;
  /** One translated (or upstream) event through the seam of a continuation, if any, to the inspector. */
  const pass = (t: TranslatedEvent): number => {
    if (t.failure !== undefined && canContinue()) {
      pending = t.failure;
      return 0;
    }
    if (seam === undefined) return send(inspector.item(t.ev, t.info));
    const joined = seam.push(t.ev);
    if (!joined.ok) {
      pending = joined.error;
      return 0;
    }
    let n = 0;
    for (const j of joined.events) {
      // The seam is marked where the continued text begins: a continuation that never got past the
      // delivered text (a replay that failed again) leaves no trace in the answer.
      if (marker !== undefined) {
        state.continued(marker.code);
        n += send([{ ev: commentEvent(`: continued after ${marker.code}\n\n`), info: NO_TEXT }]);
        marker = undefined;
      }
      n += send(inspector.item(j.ev, j.info));
    }
    return n;
  };
  /** Enqueues the items of `events` until the answer ends (or a failure waits for a continuation). */
  const emit = (events: readonly SseEvent[]): number => {
    let n = 0;
    for (const ev of events) {
      if (translation === undefined) n += pass({ ev, info: undefined });
      else for (const t of translation.push(ev)) if (pending === undefined) n += pass(t);
      // Whatever follows the end of the answer (or a failure) in the same read is not part of it.
      if (state.answerEnded || pending !== undefined) break;
    }
    // The decoder refused an event: the answer stops here, unless it had already ended before it.
    if (sse.error !== undefined && !state.answerEnded && pending === undefined) {
      const error = tooLarge(sse.error);
      n += send(inspector.stop(error));
      parts.abortUpstream(error.code);
    }
    return n;
  };
  /**
   * Continues the answer from the next attempt after `why`: the failed upstream is released, the
   * next one's events go through a seam that keeps the client's answer exactly one answer, and an
   * SSE comment marks the place. False when no attempt could continue it.
   */
  const resume = async (why: InBandError): Promise<boolean> => {
    const resumer = parts.resumer;
    if (resumer === undefined || !canContinue()) return false;
    original ??= why;
    reader.cancel(why.code).catch(() => {});
    parts.abortUpstream(why.code);
    // What the earlier attempts reported is added to the continuing attempt's own usage.
    state.priorOutputTokens += state.outputTokens ?? 0;
    state.outputTokens = undefined;
    let next: Resumed | undefined;
    try {
      next = await resumer.next(why, {
        delivered: delivered.join(""),
        firstData,
        outputTokens: state.priorOutputTokens,
      });
    } catch {
      // A continuation that fails in itself leaves the client the first failure, in band.
      next = undefined;
    }
    if (next === undefined) return false;
    if (!canContinue()) {
      // Ended while the next attempt was opening: it is not read at all.
      parts.abortUpstream("the answer ended");
      next.body.cancel("the answer ended").catch(() => {});
      return false;
    }
    reader = next.body;
    translation = next.translation;
    seam = next.seam;
    sse = new SseByteDecoder({ maxEventLength: parts.maxEventLength });
    state.readFailed = false;
    marker = why;
    // The continuing attempt has the first-token limit until its first text passes the seam.
    contentSeen = false;
    watchdog?.reset();
    return true;
  };
  /** The events still open when the body ended: an event never ended by its blank line is not dispatched. */
  const lastEvents = (): SseEvent[] =>
    sse.end().filter(
      // After a clean end the one exception is a final event that is whole (the upstream merely left
      // out its blank line); a translator judges wholeness itself. After a failed read it is a fragment.
      (ev) => ev.terminated || (!state.readFailed && (translation !== undefined || format.isWhole(ev))),
    );
  /** What the end of the upstream means for the answer when it is cut (undefined: it is whole). */
  const cut = (): {
    readonly error: InBandError | undefined;
    readonly ending: readonly TranslatedEvent[] | undefined;
  } => {
    // Asked once: a translation's ending is kept for endItems when the answer turns out whole. A
    // translator that forwards the upstream's own events (OpenAI to OpenAI) ends with nothing: the
    // inspector judges that stream, as it judges an untranslated one.
    const ending = translation?.end(state);
    if (ending !== undefined && ending.length > 0) {
      return { error: ending.find((t) => t.failure !== undefined)?.failure, ending };
    }
    if (!inspector.truncated()) return { error: undefined, ending };
    const message = state.readFailed
      ? "the upstream connection failed before the response was complete"
      : "the upstream stream ended before the response was complete";
    return { error: { code: ERROR_CODE.upstreamInterrupted, message }, ending };
  };
  return {
    async advance() {
      // A runtime stream's pull that enqueues nothing is not called again (no read-ahead), so read until a
      // whole event is out.
      let ending: readonly TranslatedEvent[] | undefined;
      while (!state.answerEnded) {
        // The asynchronous step holds as much as it may: read on once a verdict frees room.
        const room = later?.ready();
        if (room !== undefined) {
          await room;
          if (state.answerEnded) break;
        }
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
          stalled = undefined;
          if (await resume(error)) continue;
          send(inspector.stop(original ?? error));
          parts.abortUpstream(error.code);
          break;
        }
        if (!chunk.done) {
          const n = emit(sse.push(chunk.value));
          if (pending === undefined) {
            if (n > 0 && !state.answerEnded) return true;
            continue;
          }
        } else if (pending === undefined && !state.answerEnded) {
          emit(lastEvents());
          if (pending === undefined && !state.answerEnded && canContinue()) {
            const c = cut();
            pending = c.error;
            ending = c.ending;
          }
        }
        if (pending !== undefined) {
          const failure = pending;
          pending = undefined;
          ending = undefined;
          if (await resume(failure)) continue;
          // Nothing could continue it: the answer ends with the first failure, in band.
          send(inspector.stop(original ?? failure));
          parts.abortUpstream(failure.code);
        }
        break;
      }
      if (state.answerEnded) {
        // Release the upstream now: the client's answer must not wait for the upstream to hang up.
        reader.cancel("the answer ended").catch(() => {});
      }
      for (const item of endItems(parts, translation, ending)) put(out.item(item));
      if (later !== undefined) {
        // The last verdicts: what they release (or the block) is enqueued as they arrive.
        await later.settled();
        later.stop();
      }
      for (const chunk of out.end()) put(chunk);
      stopTimers();
      return false;
    },
    async cancel(reason) {
      cancelled = true;
      later?.stop();
      stopTimers();
      parts.onCancel(reason);
      await reader.cancel(reason).catch(() => {});
    },
  };
}

/**
 * What follows the upstream's last event: the translation's and inspector's endings (`ending`: the
 * translation's, when it was already asked for), then the steps' own.
 */
function endItems(
  { state, inspector, steps }: SourceParts,
  translation: Translation | undefined,
  ending: readonly TranslatedEvent[] | undefined,
): StreamItem[] {
  const items: StreamItem[] = [];
  // A stream a step stopped (a block) has had its ending already; nothing may follow it.
  if (state.stoppedBy === undefined) {
    if (translation !== undefined)
      for (const t of ending ?? translation.end(state)) items.push(...inspector.item(t.ev, t.info));
    items.push(...inspector.end());
  }
  const out: StreamItem[] = [];
  for (const inspected of items) out.push(...runSteps(steps, inspected));
  out.push(...endSteps(steps));
  return out;
}
