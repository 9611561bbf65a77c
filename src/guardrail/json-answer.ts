import { type AnswerText, stringSlots, type WireFormat } from "../upstream/format.ts";
import { isObject } from "../upstream/json.ts";
import { GuardrailCore, isBlock, type Release } from "./scanner.ts";
import type { GuardrailConfig, Verdict } from "./types.ts";

/** The part of a wire format the answer guard needs: where a JSON answer's texts are, and its blocked form. */
export type AnswerFormat = Pick<WireFormat, "answerTexts" | "blockedAnswer">;

/** What the guardrail made of one non-streaming JSON answer. */
export interface JsonAnswerGuard {
  /** True when `json` is not the answer given (redacted or blocked): only then is it re-serialized. */
  readonly changed: boolean;
  /** The answer to send: the given value itself when unchanged, else a new one (the input is never mutated). */
  readonly json: unknown;
  /** Every match (rule, action, channel, offsets), never the text. */
  readonly verdicts: readonly Verdict[];
  /** The rule that blocked the answer, if one did: `json` is then the format's blocked answer. */
  readonly blockedRule: string | undefined;
}

/** A mutable holder, so that a slot can replace the whole answer when it is a bare string. */
export interface Root {
  value: unknown;
}

/**
 * The text slots of the answer: the format's own when it has the format's answer shape; otherwise every
 * string in it, each its own channel named by its JSON path. A 200 in an unexpected shape (a provider
 * change, an intermediary's wrapper) is still text a client may show, so nothing in it goes unscanned.
 */
export function answerSlots(format: AnswerFormat, root: Root): AnswerText[] {
  const value = root.value;
  const own = isObject(value) ? format.answerTexts(value) : undefined;
  if (own !== undefined) return own;
  const out: AnswerText[] = [];
  stringSlots(value, "", (t) => (root.value = t), out);
  return out;
}

/**
 * Applies the output rules to a whole JSON answer, as a stream of the same texts would get them: each slot
 * is pushed through the streaming core (`GuardrailCore`) as one event of its channel, in document order,
 * then the answer ends. So `redact` yields the same text as the stream, and the first `block` in stream
 * order blocks. `enforce`: redacted slots are written into a copy, a block answers `format.blockedAnswer`;
 * `observe`: verdicts only; `off`: nothing is read.
 */
export function guardJsonAnswer(
  format: AnswerFormat,
  config: GuardrailConfig,
  json: unknown,
): JsonAnswerGuard {
  if (config.mode === "off") return { changed: false, json, verdicts: [], blockedRule: undefined };
  const slots = answerSlots(format, { value: json });
  const core = new GuardrailCore<number>(config);
  const redacted = new Map<number, string>();
  let blockedRule: string | undefined;
  const take = (releases: readonly Release<number>[]): void => {
    for (const r of releases) {
      if (isBlock(r)) blockedRule = r.block.rule;
      else if (r.texts?.[0] !== undefined) redacted.set(r.event, r.texts[0]);
    }
  };
  // A whole answer has no clock: every slot is "pushed" and released at the same instant.
  slots.forEach((slot, i) => {
    take(core.push(i, [{ channel: slot.channel, text: slot.text }], 0));
  });
  take(core.end(0));
  const verdicts = core.verdicts;
  if (blockedRule !== undefined) {
    const blocked = format.blockedAnswer(isObject(json) ? json : {}, blockedRule);
    return { changed: true, json: blocked, verdicts, blockedRule };
  }
  if (redacted.size === 0) return { changed: false, json, verdicts, blockedRule: undefined };
  // The slots are found again in a copy (same order), so the caller's parsed value stays as it was.
  const root: Root = { value: structuredClone(json) };
  const copy = answerSlots(format, root);
  for (const [i, text] of redacted) copy[i]?.set(text);
  return { changed: true, json: root.value, verdicts, blockedRule: undefined };
}
