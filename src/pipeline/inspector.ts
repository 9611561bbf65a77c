import { estimateTokens } from "../analytics/token-estimate.ts";
import { ERROR_CODE, STREAM_OUTCOME } from "../protocol.ts";
import type { SseEvent } from "../sse/types.ts";
import type { EventInfo, InBandError, WireFormat } from "../upstream/format.ts";
import { gatewayItems, type StreamItem } from "./item.ts";
import type { StreamState } from "./stream-state.ts";

/** What the gateway's own error events carry: no text, an error the client's SDK raises. */
const ERROR_INFO: EventInfo = { parts: [], signal: "error" };
/** What an end marker the gateway appends carries: the normal end. */
const COMPLETE_INFO: EventInfo = { parts: [], signal: "complete", endOfStream: true };

/**
 * Reads every event once with the format adapter and keeps the stream honest: it records the
 * upstream's end signals in `state`, and when the upstream ends without a normal finish (cut
 * connection, missing sentinel, an error the client could not see) it appends an in-band error in
 * the client's own format, so a truncated stream never looks complete. Pure: no streams, no clock
 * except the timestamps it records.
 */
export class Inspector {
  readonly #format: WireFormat;
  readonly #state: StreamState;
  /** Parallel answers seen (one past the highest choice index) and those that finished. */
  #span = 0;
  #finished: Set<number> | undefined;

  constructor(format: WireFormat, state: StreamState) {
    this.#format = format;
    this.#state = state;
  }

  /**
   * The item for `ev`, followed by a re-framed error when the upstream wrote one the client cannot see.
   * `info` is what a translation already read from the chunk it built; otherwise the format reads it.
   */
  item(ev: SseEvent, info: EventInfo = this.#format.inspect(ev)): StreamItem[] {
    record(this.#state, info);
    if (info.choiceSpan !== undefined && info.choiceSpan > this.#span) this.#span = info.choiceSpan;
    if (info.finishes !== undefined) {
      this.#finished ??= new Set();
      for (const i of info.finishes) this.#finished.add(i);
    }
    if (info.parts.length > 0) {
      const now = Date.now();
      this.#state.metrics.firstUpstreamContent(now);
      this.#state.metrics.contentEvent(now, estimateTokens(info.parts));
    }
    // A final block without its blank line would be dropped by every SSE client: complete its framing.
    const items: StreamItem[] = [{ ev: ev.terminated ? ev : terminate(ev), info }];
    if (info.signal === "stray-error") {
      const error = { code: ERROR_CODE.upstreamError, message: info.errorMessage ?? "upstream error" };
      items.push(...gatewayItems(this.#format.errorEvents(error), ERROR_INFO));
    }
    return items;
  }

  /** Whether `end()` would call the stream truncated (an in-band error), without writing anything. */
  truncated(): boolean {
    const state = this.#state;
    if (state.upstreamError !== undefined || (state.completeSeen && !state.readFailed)) return false;
    const finished = this.#finished?.size ?? 0;
    return !(
      this.#format.endMarker !== undefined &&
      !state.readFailed &&
      finished > 0 &&
      finished >= this.#span
    );
  }

  /** What must follow once the upstream has ended: nothing, or the in-band error of a truncated stream. */
  end(): StreamItem[] {
    const state = this.#state;
    if (state.upstreamError !== undefined || (state.completeSeen && !state.readFailed)) return [];
    // Closed cleanly after every choice finished, only the end marker missing: the answer is whole.
    const marker = this.#format.endMarker;
    const finished = this.#finished?.size ?? 0;
    if (marker !== undefined && !state.readFailed && finished > 0 && finished >= this.#span) {
      state.completeSeen = true;
      return gatewayItems(marker(), COMPLETE_INFO);
    }
    const message = state.readFailed
      ? "the upstream connection failed before the response was complete"
      : "the upstream stream ended before the response was complete";
    state.interruption = { code: ERROR_CODE.upstreamInterrupted, message };
    return gatewayItems(this.#format.errorEvents(state.interruption), ERROR_INFO);
  }

  /**
   * The source gave up reading the upstream mid-answer (an event over the size limit): the stream is
   * stopped as `interrupted` with `error` as its detail, and the client gets `error` in band, so what
   * it received is not taken for a whole answer. Nothing of the upstream's may follow.
   */
  stop(error: InBandError): StreamItem[] {
    this.#state.stoppedBy = { outcome: STREAM_OUTCOME.interrupted, error };
    return gatewayItems(this.#format.errorEvents(error), ERROR_INFO);
  }
}

function record(state: StreamState, info: EventInfo): void {
  if (info.signal === "complete") state.completeSeen = true;
  else if (info.signal === "error" || info.signal === "stray-error") {
    state.upstreamError ??= info.errorMessage ?? "upstream error";
  }
  // An error can be the end of the stream too (Anthropic's `error`, a Responses `response.failed`).
  if (info.endOfStream === true) state.endSeen = true;
  if (info.usage?.outputTokens !== undefined) state.outputTokens = info.usage.outputTokens;
}

function terminate(ev: SseEvent): SseEvent {
  const endsWithNewline = /[\r\n]$/.test(ev.raw);
  const raw = endsWithNewline ? `${ev.raw}${ev.newline}` : `${ev.raw}${ev.newline}${ev.newline}`;
  return { ...ev, raw, terminated: true };
}
