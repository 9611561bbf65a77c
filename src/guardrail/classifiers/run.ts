import type { BoundClassifier, ClassifierMessage, ClassifyInput } from "./types.ts";

/** One window sent for a verdict: the new text `[start, end)` of a channel. */
export interface Window {
  readonly start: number;
  readonly end: number;
  done: boolean;
}

/** One classifier's progress on one channel. */
export interface Lane {
  /** Text before this has been sent in a window (or passed without one: the cap). */
  sent: number;
  /** Text before this is covered by verdicts that let it pass (every earlier window answered). */
  covered: number;
  /** Windows sent and not yet covered, in order. */
  readonly windows: Window[];
}

/** One classifier on one stream: its effective mode and action, its calls, its lanes. */
export interface ClassifierRun {
  readonly bound: BoundClassifier;
  /** A verdict (or an error, failing closed) can end the stream. */
  readonly blocks: boolean;
  /** Text waits for this classifier's verdicts (`hold` with `block`). */
  readonly holds: boolean;
  /** `everyTokens` and `contextTokens` in chars, estimated as the rule window is (4 chars a token). */
  readonly everyChars: number;
  readonly contextChars: number;
  calls: number;
  inFlight: number;
  /** The call cap was reached (recorded once). */
  capped: boolean;
  readonly lanes: Map<string, Lane>;
}

/** The run's lane for `channel`, created at zero. */
export function laneOf(run: ClassifierRun, channel: string): Lane {
  let lane = run.lanes.get(channel);
  if (lane === undefined) {
    lane = { sent: 0, covered: 0, windows: [] };
    run.lanes.set(channel, lane);
  }
  return lane;
}

/**
 * What is sent for one window: for the kinds that take messages, the last user message, then the
 * window (its context followed by the new text) as the assistant's; for the others the window alone.
 */
export function windowInput(userText: string | undefined, window: string): ClassifyInput {
  const messages: ClassifierMessage[] = [];
  if (userText !== undefined && userText !== "") messages.push({ role: "user", content: userText });
  messages.push({ role: "assistant", content: window });
  return { phase: "output", messages, text: window };
}

/** What is sent for a prompt: the last user message, as a message and as the one text. */
export function promptInput(userText: string): ClassifyInput {
  return { phase: "prompt", messages: [{ role: "user", content: userText }], text: userText };
}
