import { type ClassifierSummary, NO_CLASSIFIER } from "../../analytics/classifier-summary.ts";

/** What became of one window (or prompt): the outcomes of the `classifier_verdict` log line. */
export type ClassifierOutcome = "pass" | "flag" | "block" | "unavailable" | "cap";

/** The outcome of one answered call: a flag blocks only where the classifier may block. */
export function outcomeOf(
  result: { readonly ok: boolean; readonly flagged?: boolean },
  blocks: boolean,
): ClassifierOutcome {
  if (!result.ok) return "unavailable";
  if (result.flagged !== true) return "pass";
  return blocks ? "block" : "flag";
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
