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

/** The item steps every stream of this gateway runs: the guardrail, unless it is off. */
export function guardSteps(
  config: GatewayConfig,
  format: WireFormat,
  state: StreamState,
  abortUpstream: (reason: string) => void,
): ItemStep[] {
  if (config.guardrail.mode === "off") return [];
  return [new GuardrailStep(config.guardrail, format, state, abortUpstream)];
}
