import { type AnswerText, type BlockedBy, pickFields } from "../format.ts";
import { arr, isObject, type JsonObject, num, obj, str } from "../json.ts";

/**
 * Message fields that carry text, in the order a stream's deltas are addressed (see DELTA_TEXT_FIELDS in
 * format.ts), so a whole answer and a stream of it use the same channels.
 */
const MESSAGE_TEXT_FIELDS = ["content", "refusal", "reasoning", "reasoning_content"] as const;

/** Fields a blocked completion keeps: identity, billing, never text. */
const KEPT_FIELDS = ["id", "created", "model", "system_fingerprint", "service_tier", "usage"];

/**
 * The text slots of a `chat.completion`: per choice, the message's content (a string, or the text of each
 * content part, one channel as a stream's deltas would be), refusal, reasoning, the arguments of each tool
 * call (and of the deprecated `function_call`) and an audio answer's transcript. Undefined without a
 * `choices` array.
 */
export function chatAnswerTexts(answer: JsonObject): AnswerText[] | undefined {
  const choices = answer.choices;
  if (!Array.isArray(choices)) return undefined;
  const out: AnswerText[] = [];
  choices.forEach((choice, position) => {
    if (!isObject(choice)) return;
    const message = obj(choice, "message");
    if (message === undefined) return;
    const c = num(choice, "index") ?? position;
    // Log-probabilities spell out every token of the original text: a choice whose text changed loses them.
    const slot = (channel: string, text: string, set: (t: string) => void) =>
      out.push({
        channel,
        text,
        set: (t) => {
          set(t);
          if (choice.logprobs !== undefined) choice.logprobs = null;
        },
      });
    for (const field of MESSAGE_TEXT_FIELDS) {
      const value = message[field];
      if (typeof value === "string") {
        if (value) slot(`c${c}/${field}`, value, (t) => (message[field] = t));
        continue;
      }
      for (const part of Array.isArray(value) ? value : []) {
        if (!isObject(part)) continue;
        const text = str(part, "text");
        if (text) slot(`c${c}/${field}`, text, (t) => (part.text = t));
        const refusal = str(part, "refusal");
        if (refusal) slot(`c${c}/refusal`, refusal, (t) => (part.refusal = t));
      }
    }
    arr(message, "tool_calls").forEach((call, k) => {
      const fn = isObject(call) ? obj(call, "function") : undefined;
      const args = fn === undefined ? undefined : str(fn, "arguments");
      if (fn !== undefined && isObject(call) && args) {
        slot(`c${c}/tool${num(call, "index") ?? k}/args`, args, (t) => (fn.arguments = t));
      }
    });
    const legacy = obj(message, "function_call");
    const legacyArgs = legacy === undefined ? undefined : str(legacy, "arguments");
    if (legacy !== undefined && legacyArgs) {
      slot(`c${c}/function_call/args`, legacyArgs, (t) => (legacy.arguments = t));
    }
    const audio = obj(message, "audio");
    const transcript = audio === undefined ? undefined : str(audio, "transcript");
    if (audio !== undefined && transcript) slot(`c${c}/audio`, transcript, (t) => (audio.transcript = t));
  });
  return out;
}

/**
 * A completion the content filter stopped, as OpenAI (and Azure OpenAI) answer one: each choice kept by
 * index with no content, no tool calls and `finish_reason: "content_filter"`, the rule named in the same
 * `guardrail` field a blocked stream's last chunk carries.
 */
export function chatBlockedAnswer(answer: JsonObject, rule: string, by: BlockedBy = "rule"): JsonObject {
  const indexes = arr(answer, "choices").map((choice, position) =>
    isObject(choice) ? (num(choice, "index") ?? position) : position,
  );
  return {
    ...pickFields(answer, KEPT_FIELDS),
    object: "chat.completion",
    choices: (indexes.length === 0 ? [0] : indexes).map((index) => ({
      index,
      message: { role: "assistant", content: null, refusal: null },
      logprobs: null,
      finish_reason: "content_filter",
    })),
    guardrail: { [by]: rule },
  };
}
