import { GatewayError } from "../../errors.ts";
import { ERROR_CODE } from "../../protocol.ts";
import type { GuardrailMode } from "../types.ts";
import { stopMessage, VerdictLog } from "./report.ts";
import { promptInput } from "./run.ts";
import type { BoundClassifier } from "./types.ts";
import { lastUserText } from "./user-text.ts";

/** The classifiers that judge the answer, if the guardrail runs. */
function outputClassifiers(classifiers: readonly BoundClassifier[], mode: GuardrailMode): BoundClassifier[] {
  return mode === "off" ? [] : classifiers.filter((c) => c.spec.applyTo.includes("output"));
}

/**
 * The last user message the output classifiers send along with each window (the plan's `userText`),
 * read from the request after the prompt rules ran; undefined when no output classifier runs.
 */
export function userTextFor(
  classifiers: readonly BoundClassifier[],
  mode: GuardrailMode,
  body: Record<string, unknown>,
): string | undefined {
  return outputClassifiers(classifiers, mode).length === 0 ? undefined : lastUserText(body);
}

/**
 * Classifies the prompt (its last user message, after the prompt rules) with every classifier that
 * applies to it, all at once, before any upstream call. A `block` verdict, or a failure of a
 * classifier that fails closed, is a 400 `guardrail_blocked` naming the classifier (in the route's
 * error shape). With `observe` every verdict is only recorded; with `off` nothing runs.
 */
export async function classifyPrompt(
  classifiers: readonly BoundClassifier[],
  mode: GuardrailMode,
  body: Record<string, unknown>,
  log: VerdictLog = new VerdictLog(),
): Promise<void> {
  if (mode === "off") return;
  const active = classifiers.filter((c) => c.spec.applyTo.includes("prompt"));
  if (active.length === 0) return;
  const text = lastUserText(body);
  if (text === undefined || text === "") return;
  const input = promptInput(text);
  const calls = new AbortController();
  const verdicts = await Promise.all(
    active.map(async ({ spec, classify }) => {
      const began = Date.now();
      const result = await classify(input, calls.signal);
      const blocks = mode === "enforce" && spec.action === "block";
      const { stop } = log.judge(
        spec,
        { channel: "prompt", start: 0, end: text.length },
        result,
        Date.now() - began,
        blocks,
      );
      return stop === undefined ? undefined : stopMessage(spec.name, stop, "the prompt was blocked");
    }),
  );
  const refusal = verdicts.find((v) => v !== undefined);
  if (refusal !== undefined) throw new GatewayError(400, ERROR_CODE.guardrailBlocked, refusal);
}
