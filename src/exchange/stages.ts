import { ClassifierStep } from "../guardrail/classifiers/step.ts";
import { GuardrailStep } from "../guardrail/stage.ts";
import type { ItemStep } from "../pipeline/steps.ts";
import type { StreamState } from "../pipeline/stream-state.ts";
import { Translation } from "../pipeline/translation.ts";
import type { WireFormat } from "../upstream/format.ts";
import { FAMILIES } from "../upstream/registry.ts";
import type { Attempt } from "./plan.ts";
import type { GatewayConfig } from "./settings.ts";

/** The translation an attempt needs into the client's `format`, if the provider's format is not it. */
export function translateStage(attempt: Attempt, format: WireFormat): Translation | undefined {
  if (attempt.translate === undefined) return undefined;
  const translator = FAMILIES[attempt.translate.family].translator;
  return new Translation(translator.createStream(attempt.translate.identity), format);
}

/**
 * The item steps every stream of this gateway runs: the guardrail rules, then its output
 * classifiers (the last step, asynchronous), unless the guardrail is off. Without output
 * classifiers the stream's steps stay synchronous.
 */
export function guardSteps(
  config: GatewayConfig,
  format: WireFormat,
  state: StreamState,
  abortUpstream: (reason: string) => void,
): ItemStep[] {
  const guardrail = config.guardrail;
  if (guardrail.mode === "off") return [];
  const steps: ItemStep[] = [new GuardrailStep(guardrail, format, state, abortUpstream)];
  const output = config.classifiers.filter((c) => c.spec.applyTo.includes("output"));
  if (output.length > 0) {
    steps.push(
      new ClassifierStep(output, {
        format,
        state,
        abortUpstream,
        userText: state.userText,
        observe: guardrail.mode === "observe",
      }),
    );
  }
  return steps;
}
