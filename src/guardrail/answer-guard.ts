import type { StreamState } from "../pipeline/stream-state.ts";
import { tryParse } from "../upstream/json.ts";
import { type AnswerFormat, guardJsonAnswer, type JsonAnswerGuard } from "./json-answer.ts";
import { summarize } from "./stage.ts";
import type { GuardrailConfig } from "./types.ts";

/**
 * Records what the guardrail did to a non-streaming answer: the summary verdict and blocking rule on the
 * exchange's state, and, when anything matched, the same one-line `{"event":"guardrail",...}` log a
 * stream writes (see GuardrailStep), so one log query finds both. Rules and offsets, never the text.
 */
export function reportAnswer(result: JsonAnswerGuard, config: GuardrailConfig, state: StreamState): void {
  state.guardrail = summarize(result.verdicts);
  if (result.blockedRule !== undefined) state.blockedRule = result.blockedRule;
  if (result.verdicts.length === 0) return;
  console.log(
    JSON.stringify({
      event: "guardrail",
      verdict: state.guardrail,
      verdicts: result.verdicts,
      window: config.window,
    }),
  );
}

/** The body to send for an upstream's JSON answer, or `ok: false` when it is not JSON the guardrail can read. */
export type GuardedBody = { readonly ok: true; readonly body: Uint8Array | string } | { readonly ok: false };

/** Strict UTF-8: a body that is not valid UTF-8 is not JSON (RFC 8259 §8.1), not text to guess at. */
const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

function decode(bytes: Uint8Array): string | undefined {
  try {
    return UTF8.decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * Guards a whole upstream answer body in `format` and reports it: the original bytes when nothing
 * changed (exactly what the upstream sent), the re-serialized answer when a rule redacted or blocked it.
 * An empty body carries no text and passes. A body that does not parse as JSON cannot be checked, so it
 * is refused (`ok: false`): passing it would let any text through unscanned.
 */
export function guardAnswerBody(
  bytes: Uint8Array,
  format: AnswerFormat,
  config: GuardrailConfig,
  state: StreamState,
): GuardedBody {
  const text = decode(bytes);
  if (text === undefined) return { ok: false };
  if (text.trim() === "") return { ok: true, body: bytes };
  const json = tryParse(text);
  if (json === undefined) return { ok: false };
  const result = guardJsonAnswer(format, config, json);
  reportAnswer(result, config, state);
  return { ok: true, body: result.changed ? JSON.stringify(result.json) : bytes };
}
