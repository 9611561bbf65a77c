import { type ClassifierSummary, NO_CLASSIFIER } from "../analytics/classifier-summary.ts";
import type { GuardrailVerdict } from "../analytics/data-point.ts";
import { StreamMetrics } from "../analytics/stream-metrics.ts";
import { ERROR_CODE, STREAM_OUTCOME, type StreamOutcome } from "../protocol.ts";
import type { InBandError } from "../upstream/format.ts";

/**
 * What the stages of one stream learn about it, shared by them: whether the upstream finished,
 * failed or was cut, the usage it reported, and the final outcome, decided exactly once.
 */
export class StreamState {
  /** The upstream signalled a normal end (`[DONE]`, `message_stop`, a finish reason...). */
  completeSeen = false;
  /** The upstream reported an error (visible to the client in its own format, or re-framed by us). */
  upstreamError: string | undefined;
  /** Reading the upstream body failed (connection dropped) rather than ending cleanly. */
  readFailed = false;
  /** The upstream's end sentinel arrived: nothing after it belongs to the answer. */
  endSeen = false;
  /** The in-band error the gateway wrote because the upstream ended before the answer was complete. */
  interruption: InBandError | undefined;
  /** Set by a stage that stopped the stream on purpose (guardrail block, an upstream event over the limit). */
  stoppedBy: { readonly outcome: StreamOutcome; readonly error: InBandError } | undefined;
  /** Times the answer was continued from another attempt after a mid-stream failure, and the last reason. */
  continuations = 0;
  continuedAfter: string | undefined;
  /** Upstream events skipped on the unified endpoint because their data was not JSON. */
  malformedEvents = 0;
  /** Output tokens earlier attempts of a continued answer reported (added to the continuing one's). */
  priorOutputTokens = 0;
  /** The upstream's output token count, when it reported one (the data point's exact count). */
  outputTokens: number | undefined;
  /** Timings of this stream (TTFT, gaps, bytes), written as one analytics data point at the end. */
  readonly metrics = new StreamMetrics();
  /** The most severe guardrail action taken on this stream, for analytics. */
  guardrail: GuardrailVerdict = "none";
  /** The rule (or classifier) that blocked the answer, if one did. */
  blockedRule: string | undefined;
  /** The conversation's last user message, for the guardrail classifiers (the plan's `userText`). */
  userText: string | undefined;
  /** The guardrail classifiers' summary (calls, latency, worst verdict), for analytics. */
  classifiers: ClassifierSummary = NO_CLASSIFIER;
  /** The upstream's request id (`x-request-id` or `request-id`), for finding this stream in its logs. */
  upstreamRequestId: string | undefined;
  #outcome: StreamOutcome | undefined;
  readonly #listeners: ((outcome: StreamOutcome) => void)[] = [];

  /** The outcome once decided. */
  get outcome(): StreamOutcome | undefined {
    return this.#outcome;
  }

  /** Registers a callback run once when the outcome is decided (analytics, storage). */
  onEnd(listener: (outcome: StreamOutcome) => void): void {
    if (this.#outcome !== undefined) listener(this.#outcome);
    else this.#listeners.push(listener);
  }

  /** True once the answer is over (end sentinel, or stopped by a stage): the upstream is read no further. */
  get answerEnded(): boolean {
    return this.endSeen || this.stoppedBy !== undefined;
  }

  /** Why the stream did not complete, as `code: message` (stored as the stream's `detail`); none if it did. */
  endDetail(): string | undefined {
    const error =
      this.stoppedBy?.error ??
      this.interruption ??
      (this.upstreamError === undefined
        ? undefined
        : { code: ERROR_CODE.upstreamError, message: this.upstreamError });
    return error === undefined ? undefined : describeError(error);
  }

  /** The outcome an upstream that has ended implies. */
  upstreamOutcome(): StreamOutcome {
    if (this.stoppedBy !== undefined) return this.stoppedBy.outcome;
    if (this.upstreamError !== undefined || this.readFailed || !this.completeSeen)
      return STREAM_OUTCOME.interrupted;
    return STREAM_OUTCOME.complete;
  }

  /** The answer went on from another attempt after a failure with `code`. */
  continued(code: string): void {
    this.continuations++;
    this.continuedAfter = code;
  }

  /** Decides the outcome; later calls are ignored so every listener runs exactly once. */
  finish(outcome: StreamOutcome): boolean {
    if (this.#outcome !== undefined) return false;
    this.#outcome = outcome;
    for (const l of this.#listeners.splice(0)) l(outcome);
    return true;
  }
}

/** An in-band error as one line for status and logs: `code: message`. */
export function describeError(error: InBandError): string {
  return `${error.code}: ${error.message}`;
}
