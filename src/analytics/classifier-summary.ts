/** A stream's guardrail-classifier summary, for the data point and the `stream_metrics` line. */
export interface ClassifierSummary {
  readonly calls: number;
  /** Nearest-rank median and maximum of the call latencies; -1 without calls. */
  readonly latencyP50Ms: number;
  readonly latencyMaxMs: number;
  /** `none`, or the worst outcome and its classifier: `block:lakera`, `unavailable:mod`, `pass`. */
  readonly verdict: string;
}

/** The summary of a stream (or a request) that ran no classifier. */
export const NO_CLASSIFIER: ClassifierSummary = {
  calls: 0,
  latencyP50Ms: -1,
  latencyMaxMs: -1,
  verdict: "none",
};
