import type { InterruptReason } from "../../src/client/index.ts";

/** What the current answer is doing, as the status line says it. */
export type StreamState =
  | { readonly kind: "idle" }
  | { readonly kind: "waiting"; readonly elapsedMs: number }
  | { readonly kind: "streaming"; readonly characters: number }
  | {
      readonly kind: "resuming";
      readonly attempt: number;
      readonly kept: number;
      readonly lastEventId: number;
    }
  | { readonly kind: "resumed"; readonly kept: number; readonly lastEventId: number }
  | {
      readonly kind: "done";
      readonly events: number;
      readonly finishReason: string | null;
      readonly resumes: number;
    }
  | { readonly kind: "stopped"; readonly characters: number }
  | { readonly kind: "guardrail"; readonly characters: number }
  | { readonly kind: "interrupted"; readonly characters: number; readonly why: string }
  | { readonly kind: "failed"; readonly characters: number; readonly message: string };

/** How a state looks: `busy` while the answer is on its way, `error` only for what went wrong. */
export type Tone = "neutral" | "busy" | "notice" | "error";

/** The sentence and tone for a state. */
export interface StateText {
  readonly text: string;
  readonly tone: Tone;
}

const chars = (n: number): string => `${n} character${n === 1 ? "" : "s"}`;

/** Seconds with one decimal: the waiting line counts up visibly, ten times a second. */
export function seconds(ms: number): string {
  return `${(Math.max(0, ms) / 1000).toFixed(1)} s`;
}

/** The status line's sentence for `state`. */
export function describeState(state: StreamState): StateText {
  switch (state.kind) {
    case "idle":
      return { text: "", tone: "neutral" };
    case "waiting":
      return { text: `Waiting for the first token… ${seconds(state.elapsedMs)}`, tone: "busy" };
    case "streaming":
      return { text: `Streaming… ${chars(state.characters)} so far.`, tone: "busy" };
    case "resuming":
      return {
        text:
          `Connection lost — resuming (attempt ${state.attempt}) after event ${state.lastEventId}. ` +
          `The ${chars(state.kept)} received so far are kept.`,
        tone: "busy",
      };
    case "resumed":
      return {
        text: `Resumed after event ${state.lastEventId}: kept ${chars(state.kept)}, nothing lost or repeated.`,
        tone: "busy",
      };
    case "done": {
      const resumed = state.resumes === 0 ? "" : `, resumed ${state.resumes}×`;
      return {
        text: `Complete: ${state.events} events, finish reason ${state.finishReason ?? "none"}${resumed}.`,
        tone: "neutral",
      };
    }
    case "stopped":
      return { text: `Stopped by you after ${chars(state.characters)}.`, tone: "neutral" };
    case "guardrail":
      return {
        text: `Stopped by the guardrail after ${chars(state.characters)}: the rest of the answer was withheld.`,
        tone: "notice",
      };
    case "interrupted":
      return {
        text: `Interrupted after ${chars(state.characters)}: ${state.why}. The answer is incomplete.`,
        tone: "error",
      };
    case "failed":
      return {
        text:
          state.characters === 0
            ? `Failed: ${state.message}`
            : `Failed after ${chars(state.characters)}: ${state.message}. The answer is incomplete.`,
        tone: "error",
      };
  }
}

/** The note kept under an answer once it ended other than complete; null for a complete one. */
export function answerNote(state: StreamState): string | null {
  switch (state.kind) {
    case "stopped":
      return "Stopped by you.";
    case "guardrail":
      return "Stopped by the guardrail.";
    case "interrupted":
    case "failed":
      return "Incomplete: the stream ended before the answer did.";
    default:
      return null;
  }
}

/** Why the client gave up resuming, in the status line's words. */
export const INTERRUPT_WHY: Readonly<Record<InterruptReason, string>> = {
  retries_exhausted: "every attempt to resume failed",
  not_found: "the gateway no longer knows this stream",
  bad_cursor: "the gateway refused the resume cursor",
  no_stream_id: "the answer had no stream id to resume by",
  gap: "the resumed stream skipped events",
};
