/**
 * The contract between the bench client and the mock upstream: what stream to send (the plan) and
 * how each event carries its send time (the stamp). Both live in text that every target forwards.
 */

/** The shape of one benchmark stream, chosen by the client and read by the mock from the request. */
export interface StreamPlan {
  /** Content events before the finish chunk and the end marker. */
  readonly events: number;
  /** Spacing between content events; 0 sends them as fast as the socket takes them. */
  readonly intervalMs: number;
  /** Filler characters per event, after the stamp (a typical token delta is a few bytes). */
  readonly padChars: number;
  /**
   * Filler of digits (`1234567890…`, no valid card number) instead of `x`: text a guardrail rule
   * (payment cards) could still match until the next event's stamp ends the digit run, so the
   * enforce window holds each event until the next arrives. Default `x`, which no rule can start.
   */
  readonly padDigits?: boolean;
}

/**
 * The plan travels inside the model name: the one field every route forwards upstream unchanged,
 * native or translated (a translated request drops unknown body fields, and Gemini puts the model
 * in the URL path). The mock finds it in the request line or body.
 */
export function planModel(plan: StreamPlan): string {
  return `bench-n${plan.events}-i${plan.intervalMs}-p${plan.padChars}${plan.padDigits === true ? "d" : ""}`;
}

const PLAN_PATTERN = /bench-n(\d+)-i(\d+)-p(\d+)(d?)/;

/** Reads a plan from request text (URL and body); undefined when the request names none. */
export function parsePlan(text: string): StreamPlan | undefined {
  const m = PLAN_PATTERN.exec(text);
  if (m === null) return undefined;
  return { events: Number(m[1]), intervalMs: Number(m[2]), padChars: Number(m[3]), padDigits: m[4] === "d" };
}

/** The filler text of each event of a plan. */
export function padOf(plan: StreamPlan): string {
  return plan.padDigits === true
    ? "1234567890".repeat(Math.ceil(plan.padChars / 10)).slice(0, plan.padChars)
    : "x".repeat(plan.padChars);
}

/**
 * Milliseconds since the Unix epoch with sub-millisecond precision, from the monotonic clock. Both
 * processes anchor it to the same system clock, so a stamp from the mock and an arrival time in
 * the client are comparable; any constant offset between them cancels out in the "added" figures,
 * which subtract the direct target's numbers.
 */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * A send time as text: `[t=<microseconds, base 36>]`. Base 36 rather than decimal because a
 * 16-digit run could look like a card or phone number to the guardrail (a later bench row) and
 * be redacted; letters and digits mixed match none of its detectors.
 */
export function encodeStamp(ms: number): string {
  return `[t=${Math.round(ms * 1000).toString(36)}]`;
}

/** Finds a stamp anywhere in an event's text. */
export const STAMP_PATTERN = /\[t=([0-9a-z]+)\]/;

/** The send time in a stamp's captured digits. */
export function decodeStamp(digits: string): number {
  return Number.parseInt(digits, 36) / 1000;
}
