import { type ClassifierSummary, NO_CLASSIFIER } from "../../analytics/classifier-summary.ts";
import type { ClassifierSpec, ClassifyResult } from "./types.ts";

/** What became of one window (or prompt): the outcomes of the `classifier_verdict` log line. */
export type ClassifierOutcome = "pass" | "flag" | "block" | "unavailable" | "cap";

/** Where a judged text lies: `prompt`, or the answer's channel, and the new text's `[start, end)`. */
export interface JudgedSpan {
  readonly channel: string;
  readonly start: number;
  readonly end: number;
}

/** One call's verdict, as its caller acts on it. */
export interface Judgement {
  readonly outcome: ClassifierOutcome;
  /**
   * Why it stops what it judged, completing "`<what>` ..." (see `stopMessage`): a block, or no verdict
   * from a classifier that blocks and fails closed; undefined when it lets the text pass.
   */
  readonly stop: { readonly unavailable: string | undefined } | undefined;
}

/** The message of a stop: `done` says what was stopped ("the answer was stopped", "the prompt was blocked"). */
export function stopMessage(
  name: string,
  stop: { readonly unavailable: string | undefined },
  done: string,
): string {
  if (stop.unavailable === undefined) return `${done} by guardrail classifier "${name}"`;
  return `guardrail classifier "${name}" was unavailable (${stop.unavailable}) and fails closed: ${done}`;
}

/** The worst outcome first: what a stream's summary reports. */
const SEVERITY: Readonly<Record<ClassifierOutcome, number>> = {
  pass: 1,
  cap: 2,
  unavailable: 3,
  flag: 4,
  block: 5,
};

/** One verdict as logged: where the window was and what was decided, never the text. */
export interface VerdictRecord {
  readonly classifier: string;
  /** `prompt`, or the answer's channel (e.g. `c0/content`). */
  readonly channel: string;
  /** The new text the window judged, `[start, end)` in the channel (its context lies before `start`). */
  readonly start: number;
  readonly end: number;
  readonly flagged: boolean;
  readonly categories: readonly string[];
  /** Milliseconds the call took (0 when no call was made: the cap). */
  readonly latencyMs: number;
  readonly outcome: ClassifierOutcome;
  /** Why there was no verdict (`timeout`, `http 503`...), for `unavailable`. */
  readonly reason?: string;
}

/** Collects verdicts: logs each as one JSON line and keeps what the summary needs (never the text). */
export class VerdictLog {
  #calls = 0;
  readonly #latencies: number[] = [];
  #worst: VerdictRecord | undefined;
  readonly #write: (line: string) => void;

  constructor(write: (line: string) => void = (line) => console.log(line)) {
    this.#write = write;
  }

  /**
   * Records the answer of one call of `spec` on `span` (`blocks`: whether this classifier may block
   * here) and says what it decides: the one place a result becomes an outcome.
   */
  judge(
    spec: ClassifierSpec,
    span: JudgedSpan,
    result: ClassifyResult,
    latencyMs: number,
    blocks: boolean,
  ): Judgement {
    const flagged = result.ok && result.flagged;
    const outcome: ClassifierOutcome = !result.ok
      ? "unavailable"
      : !flagged
        ? "pass"
        : blocks
          ? "block"
          : "flag";
    this.add(
      {
        classifier: spec.name,
        ...span,
        flagged,
        categories: result.ok ? result.categories : [],
        latencyMs,
        outcome,
        ...(result.ok ? {} : { reason: result.reason }),
      },
      true,
    );
    if (outcome === "block") return { outcome, stop: { unavailable: undefined } };
    if (!result.ok && blocks && spec.onError === "closed")
      return { outcome, stop: { unavailable: result.reason } };
    return { outcome, stop: undefined };
  }

  /** Records one verdict; `called`: a call was made (the cap records without one). */
  add(record: VerdictRecord, called: boolean): void {
    if (called) {
      this.#calls++;
      this.#latencies.push(record.latencyMs);
    }
    if (this.#worst === undefined || SEVERITY[record.outcome] > SEVERITY[this.#worst.outcome])
      this.#worst = record;
    this.#write(JSON.stringify({ event: "classifier_verdict", ...record }));
  }

  get summary(): ClassifierSummary {
    const worst = this.#worst;
    if (worst === undefined) return NO_CLASSIFIER;
    const sorted = [...this.#latencies].sort((a, b) => a - b);
    const p50 = sorted.length === 0 ? -1 : (sorted[Math.ceil(sorted.length / 2) - 1] ?? -1);
    return {
      calls: this.#calls,
      latencyP50Ms: p50,
      latencyMaxMs: sorted.length === 0 ? -1 : (sorted[sorted.length - 1] ?? -1),
      verdict: worst.outcome === "pass" ? "pass" : `${worst.outcome}:${worst.classifier}`,
    };
  }
}
