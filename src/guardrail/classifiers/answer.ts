import { type AnswerFormat, answerSlots } from "../json-answer.ts";
import type { GuardrailMode } from "../types.ts";
import { VerdictLog } from "./report.ts";
import { windowInput } from "./run.ts";
import type { BoundClassifier, ClassifierSpec } from "./types.ts";

/** One window of a whole answer's channel: its new text `[start, end)` and what is sent. */
interface AnswerWindow {
  readonly channel: string;
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

/** A channel's text cut into the windows a stream of it would have had (every `everyTokens`, with context). */
function windowsOf(spec: ClassifierSpec, channel: string, text: string): AnswerWindow[] {
  const every = spec.everyTokens * 4;
  const context = spec.contextTokens * 4;
  const out: AnswerWindow[] = [];
  for (let start = 0; start < text.length; start += every) {
    const end = Math.min(text.length, start + every);
    out.push({ channel, start, end, text: text.slice(Math.max(0, start - context), end) });
  }
  return out;
}

/** Why a classifier stops a whole answer, or undefined when it lets it pass. */
async function judge(
  bound: BoundClassifier,
  windows: readonly AnswerWindow[],
  userText: string | undefined,
  blocks: boolean,
  log: VerdictLog,
): Promise<string | undefined> {
  const { spec, classify } = bound;
  const calls = new AbortController();
  const allowed = windows.slice(0, spec.maxCallsPerStream);
  if (allowed.length < windows.length) {
    const first = windows[allowed.length];
    if (first !== undefined) {
      const record = { classifier: spec.name, channel: first.channel, start: first.start, end: first.end };
      log.add({ ...record, flagged: false, categories: [], latencyMs: 0, outcome: "cap" }, false);
    }
    if (blocks && spec.onError === "closed") return spec.name;
  }
  // `maxConcurrent` calls at a time, as a stream would make them.
  for (let i = 0; i < allowed.length; i += spec.maxConcurrent) {
    const batch = allowed.slice(i, i + spec.maxConcurrent);
    const outcomes = await Promise.all(
      batch.map(async (w) => {
        const began = Date.now();
        const result = await classify(windowInput(userText, w.text), calls.signal);
        const span = { channel: w.channel, start: w.start, end: w.end };
        return log.judge(spec, span, result, Date.now() - began, blocks).stop !== undefined;
      }),
    );
    if (outcomes.some((stop) => stop)) {
      calls.abort("blocked");
      return spec.name;
    }
  }
  return undefined;
}

/**
 * Classifies a whole (non-streaming) JSON answer as its stream would have been: every text channel
 * (content, reasoning, tool-call arguments...) in windows of `everyTokens` with `contextTokens` of
 * context, by every output classifier at once. Returns the classifier that blocks it, if one does
 * (`mode` and `action` as for streams: `observe` and `flag` only record). Rules have already run.
 */
export async function classifyAnswer(
  classifiers: readonly BoundClassifier[],
  mode: GuardrailMode,
  format: AnswerFormat,
  json: unknown,
  userText: string | undefined,
  log: VerdictLog = new VerdictLog(),
): Promise<string | undefined> {
  const active = mode === "off" ? [] : classifiers.filter((c) => c.spec.applyTo.includes("output"));
  if (active.length === 0) return undefined;
  const texts = new Map<string, string[]>();
  for (const slot of answerSlots(format, { value: json })) {
    const pieces = texts.get(slot.channel) ?? [];
    pieces.push(slot.text);
    texts.set(slot.channel, pieces);
  }
  const verdicts = await Promise.all(
    active.map((bound) => {
      const windows = [...texts].flatMap(([channel, pieces]) =>
        windowsOf(bound.spec, channel, pieces.join("")),
      );
      return judge(bound, windows, userText, mode === "enforce" && bound.spec.action === "block", log);
    }),
  );
  return verdicts.find((v) => v !== undefined);
}
