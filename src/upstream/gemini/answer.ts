import { type AnswerText, type BlockedBy, pickFields, stringSlots } from "../format.ts";
import { arr, isObject, type JsonObject, num, obj, str } from "../json.ts";

/** Fields a blocked response keeps: identity and usage, never text. */
const KEPT_FIELDS = ["usageMetadata", "modelVersion", "responseId", "createTime"];

/** Code execution parts: the model's code and its output are text the client sees too. */
const CODE_FIELDS = [
  ["executableCode", "code", "code"],
  ["codeExecutionResult", "output", "result"],
] as const;

/**
 * The text slots of a `generateContent` response, on the channels a stream of it would use: per
 * candidate, its text parts as one channel (`c<i>/text`, thought parts `c<i>/thought`: a match split
 * over two parts is still found), every string inside a function call's `args` (they stay an object), and
 * code execution parts. A response without candidates but with `promptFeedback` (a refused prompt) has no
 * text; anything else without a `candidates` array is not this shape.
 */
export function geminiAnswerTexts(answer: JsonObject): AnswerText[] | undefined {
  const candidates = answer.candidates;
  if (!Array.isArray(candidates)) return obj(answer, "promptFeedback") === undefined ? undefined : [];
  const out: AnswerText[] = [];
  candidates.forEach((candidate, i) => {
    if (!isObject(candidate)) return;
    const c = num(candidate, "index") ?? i;
    const content = obj(candidate, "content");
    arr(content ?? {}, "parts").forEach((part, j) => {
      if (!isObject(part)) return;
      const call = obj(part, "functionCall");
      if (call !== undefined) {
        stringSlots(call.args, `c${c}/call${j}`, (t) => (call.args = t), out);
        return;
      }
      const text = str(part, "text");
      if (text) {
        out.push({
          channel: `c${c}/${part.thought === true ? "thought" : "text"}`,
          text,
          set: (t) => (part.text = t),
        });
      }
      for (const [field, key, channel] of CODE_FIELDS) {
        const holder = obj(part, field);
        const value = holder === undefined ? undefined : str(holder, key);
        if (holder !== undefined && value) {
          out.push({ channel: `c${c}/${channel}${j}`, text: value, set: (t) => (holder[key] = t) });
        }
      }
    });
  });
  return out;
}

/**
 * Gemini's own content-filter ending, as a blocked stream's last chunk: every candidate kept by index
 * with no parts and `finishReason: "SAFETY"`, the rule named in `finishMessage`.
 */
export function geminiBlockedAnswer(answer: JsonObject, rule: string, by: BlockedBy = "rule"): JsonObject {
  const indexes = arr(answer, "candidates").map((candidate, i) =>
    isObject(candidate) ? (num(candidate, "index") ?? i) : i,
  );
  return {
    candidates: (indexes.length === 0 ? [0] : indexes).map((index) => ({
      content: { parts: [], role: "model" },
      finishReason: "SAFETY",
      finishMessage: `Response blocked by the gateway guardrail ${by} "${rule}".`,
      index,
    })),
    ...pickFields(answer, KEPT_FIELDS),
  };
}
