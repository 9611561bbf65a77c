import { type AnswerText, type BlockedBy, pickFields, stringSlots } from "../format.ts";
import { arr, isObject, type JsonObject, num, obj } from "../json.ts";
import { chatAnswerTexts, chatBlockedAnswer } from "../openai-chat/answer.ts";

/**
 * The text slots of a non-streaming `env.AI.run` result, on the channels its stream uses: the native
 * `response` (a string, or an object in JSON mode: its strings) as choice 0's content, and each tool
 * call's arguments (a string, or an object: its strings); an OpenAI-shaped completion from newer models
 * is read as one. Undefined when the result has neither shape.
 */
export function workersAiAnswerTexts(answer: JsonObject): AnswerText[] | undefined {
  if (Array.isArray(answer.choices)) return chatAnswerTexts(answer);
  if (answer.response === undefined && !Array.isArray(answer.tool_calls)) return undefined;
  const out: AnswerText[] = [];
  stringSlots(answer.response, "c0/content", (t) => (answer.response = t), out);
  arr(answer, "tool_calls").forEach((call, k) => {
    if (!isObject(call)) return;
    const holder = obj(call, "function") ?? call;
    stringSlots(
      holder.arguments,
      `c0/tool${num(call, "index") ?? k}/args`,
      (t) => (holder.arguments = t),
      out,
    );
  });
  return out;
}

/**
 * A result the content filter stopped: the native shape with an empty `response` and
 * `finish_reason: "content_filter"` (as a blocked stream's last chunk), or a filtered OpenAI-shaped
 * completion when the model answers in that shape.
 */
export function workersAiBlockedAnswer(answer: JsonObject, rule: string, by: BlockedBy = "rule"): JsonObject {
  if (Array.isArray(answer.choices)) return chatBlockedAnswer(answer, rule, by);
  return {
    response: "",
    finish_reason: "content_filter",
    ...pickFields(answer, ["usage"]),
    guardrail: { [by]: rule },
  };
}
