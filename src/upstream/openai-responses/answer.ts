import { type AnswerText, type BlockedBy, pickFields } from "../format.ts";
import { arr, isObject, type JsonObject, str } from "../json.ts";

/**
 * String fields of an output item that are text the client shows or runs: a message's or reasoning
 * item's `text`, a function or MCP call's `arguments`, a custom tool call's `input`, code interpreter
 * `code`, an MCP call's `output`.
 */
const ITEM_TEXT_FIELDS = ["text", "arguments", "input", "code", "output"] as const;

/**
 * Fields a blocked response keeps: its identity and usage, and the request settings it echoes (which the
 * SDKs' `Response` type expects); none of them is answer text.
 */
const KEPT_FIELDS = [
  "id",
  "created_at",
  "model",
  "usage",
  "parallel_tool_calls",
  "tool_choice",
  "tools",
  "temperature",
  "top_p",
  "max_output_tokens",
  "previous_response_id",
  "reasoning",
  "text",
  "truncation",
  "service_tier",
  "store",
  "background",
];

/** The text slots of one output item, under `prefix` (`o<i>`). */
function itemTexts(item: JsonObject, prefix: string, out: AnswerText[]): void {
  for (const field of ITEM_TEXT_FIELDS) {
    const text = str(item, field);
    if (text) out.push({ channel: `${prefix}/${field}`, text, set: (t) => (item[field] = t) });
  }
  for (const list of ["content", "summary"] as const) {
    arr(item, list).forEach((part, j) => {
      if (!isObject(part)) return;
      for (const field of ["text", "refusal"] as const) {
        const text = str(part, field);
        if (!text) continue;
        out.push({
          channel: `${prefix}/${list}${j}/${field}`,
          text,
          set: (t) => {
            part[field] = t;
            // Log-probabilities spell out every token of the original text.
            if (Array.isArray(part.logprobs)) part.logprobs = [];
          },
        });
      }
    });
  }
  // Code interpreter output the client sees.
  arr(item, "outputs").forEach((output, k) => {
    const logs = isObject(output) ? str(output, "logs") : undefined;
    if (isObject(output) && logs) {
      out.push({ channel: `${prefix}/outputs${k}/logs`, text: logs, set: (t) => (output.logs = t) });
    }
  });
}

/**
 * The text slots of a Responses API `response` object: every output item's texts (messages, refusals,
 * reasoning text and summaries, function and tool call arguments, code and its logs), then the
 * `output_text` convenience string when an intermediary added one. Undefined without an `output` array.
 */
export function responsesAnswerTexts(answer: JsonObject): AnswerText[] | undefined {
  const output = answer.output;
  if (!Array.isArray(output)) return undefined;
  const out: AnswerText[] = [];
  output.forEach((item, i) => {
    if (isObject(item)) itemTexts(item, `o${i}`, out);
  });
  const convenience = str(answer, "output_text");
  if (convenience)
    out.push({ channel: "output_text", text: convenience, set: (t) => (answer.output_text = t) });
  return out;
}

/**
 * A response the content filter stopped, as the Responses API reports one: `status: "incomplete"`,
 * `incomplete_details: {reason: "content_filter"}`, no output; the rule named in the same `guardrail`
 * field a blocked stream's `response.incomplete` carries.
 */
export function responsesBlockedAnswer(answer: JsonObject, rule: string, by: BlockedBy = "rule"): JsonObject {
  return {
    ...pickFields(answer, KEPT_FIELDS),
    object: "response",
    status: "incomplete",
    incomplete_details: { reason: "content_filter" },
    error: null,
    output: [],
    guardrail: { [by]: rule },
  };
}
