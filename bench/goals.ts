/**
 * The goals the issues set (their "targets"), judged from measured numbers. A verdict names the
 * target judged and what it was compared with, and says by how much, so a reader can tell a near
 * miss from a clear one.
 */

/** The outcome of one goal for one row. */
export interface GoalVerdict {
  /** The goal in words, naming the targets, e.g. "gateway ≤ 1.5× passthrough". */
  readonly goal: string;
  /** "inconclusive" when noise or a missing figure leaves nothing to compare (see `withinFactor`). */
  readonly status: "met" | "not met" | "inconclusive";
  /** The evidence, e.g. "1.38×, +0.180 ms". */
  readonly detail: string;
}

/** Which target is judged against which (target ids as in the table's columns). */
export interface Judged {
  readonly subject: string;
  readonly reference: string;
}

/** A signed figure for a verdict's evidence, in milliseconds unless told otherwise. */
export function signedMs(ms: number, unit: "ms" | "µs" = "ms"): string {
  if (Number.isNaN(ms)) return "n/a";
  return `${ms >= 0 ? "+" : "−"}${Math.abs(ms).toFixed(unit === "ms" ? 3 : 1)} ${unit}`;
}

/**
 * `subjectAdded ≤ factor × referenceAdded` (both already minus the direct baseline). The ratio
 * alone misleads at sub-millisecond scale (0.3 ms vs 0.45 ms is "1.5×" yet 0.15 ms), so the
 * absolute difference is printed beside it. A reference at or below zero means the baseline's
 * own noise at that percentile exceeded the reference's cost: no multiple of it is meaningful,
 * so the verdict is "inconclusive" rather than a pass or fail decided by noise.
 */
export function withinFactor(
  subjectAdded: number,
  referenceAdded: number,
  factor: number,
  names: Judged,
  unit: "ms" | "µs" = "ms",
): GoalVerdict {
  const diff = subjectAdded - referenceAdded;
  const goal = `${names.subject} ≤ ${factor}× ${names.reference}`;
  if (!(referenceAdded > 0) || Number.isNaN(subjectAdded)) {
    return {
      goal,
      status: "inconclusive",
      detail: `reference added ${signedMs(referenceAdded, unit)}, diff ${signedMs(diff, unit)}`,
    };
  }
  return {
    goal,
    status: subjectAdded <= factor * referenceAdded ? "met" : "not met",
    detail: `${(subjectAdded / referenceAdded).toFixed(2)}×, ${signedMs(diff, unit)}`,
  };
}

/**
 * `subject − reference ≤ boundMs`: an absolute budget (issue 4's Durable Object hop ≤ 1 ms p50
 * over passthrough, issue 5's observe mode ≤ 0.1 ms p50 over guardrail off). Inconclusive when
 * either figure is missing.
 */
export function withinMs(subject: number, reference: number, boundMs: number, names: Judged): GoalVerdict {
  const diff = subject - reference;
  const goal = `${names.subject} ≤ ${names.reference} + ${boundMs} ms`;
  if (Number.isNaN(diff)) return { goal, status: "inconclusive", detail: "no figure to compare" };
  return { goal, status: diff <= boundMs ? "met" : "not met", detail: signedMs(diff) };
}

/** Every stream completed and no stream went silent for `boundMs` or longer. */
export function noStalls(
  subject: string,
  completed: number,
  total: number,
  worstGapMs: number,
  boundMs: number,
): GoalVerdict {
  return {
    goal: `${subject}: all ${total} complete, worst gap < ${boundMs} ms`,
    status: completed === total && worstGapMs < boundMs ? "met" : "not met",
    detail: `${completed}/${total}, worst gap ${worstGapMs.toFixed(1)} ms`,
  };
}
