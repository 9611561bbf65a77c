import { type AnswerText, type BlockedBy, pickFields, stringSlots } from "../format.ts";
import { arr, isObject, type JsonObject, str } from "../json.ts";

/**
 * Keys inside server tool result blocks that are never text: identifiers, opaque signatures and
 * encrypted payloads (which the client sends back verbatim), base64 data and its media type.
 */
const NOT_TEXT = new Set([
  "type",
  "id",
  "tool_use_id",
  "signature",
  "encrypted_content",
  "encrypted_index",
  "data",
  "media_type",
  "file_id",
]);

/** Block types whose `input` is the model's tool call (an object: its string values are scanned). */
const CALL_BLOCKS = new Set(["tool_use", "server_tool_use", "mcp_tool_use"]);

/** Fields a blocked message keeps: identity and usage, never text. */
const KEPT_FIELDS = ["id", "model", "usage"];

/**
 * The text slots of a Messages API `message`: per content block `b<i>` (the channel a stream of it would
 * use), a text block's text and each citation's quoted text, a thinking block's thinking, every string
 * inside a tool call's `input` (it stays an object), and every text-like string of a server tool's result.
 * `redacted_thinking` is encrypted and skipped. Undefined without a `content` array.
 *
 * This folder otherwise only reads provider JSON (see json.ts); here the setters write into the parsed
 * answer, which the caller parsed for this purpose.
 */
export function anthropicAnswerTexts(answer: JsonObject): AnswerText[] | undefined {
  const content = answer.content;
  if (!Array.isArray(content)) return undefined;
  const out: AnswerText[] = [];
  content.forEach((block, i) => {
    if (!isObject(block)) return;
    const type = str(block, "type");
    if (type === "text") {
      const text = str(block, "text");
      if (text) out.push({ channel: `b${i}/text`, text, set: (t) => (block.text = t) });
      for (const citation of arr(block, "citations")) {
        const cited = isObject(citation) ? str(citation, "cited_text") : undefined;
        if (isObject(citation) && cited) {
          out.push({ channel: `b${i}/citation`, text: cited, set: (t) => (citation.cited_text = t) });
        }
      }
    } else if (type === "thinking") {
      const thinking = str(block, "thinking");
      if (thinking) out.push({ channel: `b${i}/thinking`, text: thinking, set: (t) => (block.thinking = t) });
    } else if (type === "redacted_thinking") {
      // Encrypted by Anthropic: no readable text, and the client must send it back unchanged.
    } else if (type !== undefined && CALL_BLOCKS.has(type)) {
      stringSlots(block.input, `b${i}/input`, (t) => (block.input = t), out);
    } else {
      // Server tool results (web search, web fetch, code execution...) and future block types: whatever
      // they hold may reach the user, so every string that can be text is scanned.
      stringSlots(block, `b${i}`, () => {}, out, NOT_TEXT);
    }
  });
  return out;
}

/**
 * A message Anthropic's own safety filter stopped: no content, `stop_reason: "refusal"` with
 * `stop_details` explaining it (as a blocked stream's `message_delta` does), naming the rule.
 */
export function anthropicBlockedAnswer(answer: JsonObject, rule: string, by: BlockedBy = "rule"): JsonObject {
  return {
    ...pickFields(answer, KEPT_FIELDS),
    type: "message",
    role: "assistant",
    content: [],
    stop_reason: "refusal",
    stop_sequence: null,
    stop_details: {
      type: "refusal",
      category: null,
      explanation: `response blocked by guardrail ${by} "${rule}"`,
    },
  };
}
