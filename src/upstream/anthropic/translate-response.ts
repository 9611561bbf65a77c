import { GatewayError } from "../../errors.ts";
import { ERROR_CODE } from "../../protocol.ts";
import type { ChatCompletion, ChatToolCall } from "../openai-chat/types.ts";
import type { ChunkIdentity } from "../translator.ts";
import { isRecord, objectField, stringField } from "./json.ts";
import { mapStopReason, mergeUsage, toChatUsage } from "./wire.ts";

/**
 * A non-streaming Anthropic message as a `chat.completion`. Text blocks are joined, thinking becomes
 * `reasoning_content`, client `tool_use` blocks become `tool_calls` (server tool blocks ran on
 * Anthropic's side and are left out, as in the stream translation).
 */
export function translateAnthropicResponse(body: unknown, identity: ChunkIdentity): ChatCompletion {
  const content = isRecord(body) ? body.content : undefined;
  if (!isRecord(body) || !Array.isArray(content)) {
    // Never echo the body: it is an upstream payload of unknown content.
    throw new GatewayError(
      502,
      ERROR_CODE.upstreamError,
      "Anthropic returned a response without a content array",
    );
  }
  const texts: string[] = [];
  const thinking: string[] = [];
  const toolCalls: ChatToolCall[] = [];
  for (const block of content) {
    if (!isRecord(block)) continue;
    switch (stringField(block, "type")) {
      case "text":
        texts.push(stringField(block, "text") ?? "");
        break;
      case "thinking":
        thinking.push(stringField(block, "thinking") ?? "");
        break;
      case "tool_use":
        toolCalls.push({
          id: stringField(block, "id") ?? "",
          type: "function",
          function: { name: stringField(block, "name") ?? "", arguments: JSON.stringify(block.input ?? {}) },
        });
        break;
    }
  }
  const stopReason = stringField(body, "stop_reason");
  const usage = toChatUsage(mergeUsage({}, objectField(body, "usage")));
  const text = texts.join("");
  return {
    id: identity.id,
    object: "chat.completion",
    created: identity.created,
    model: identity.model,
    choices: [
      {
        index: 0,
        message: {
          role: "assistant",
          // OpenAI sends `content: null` for a reply that is only tool calls.
          content: text === "" && toolCalls.length > 0 ? null : text,
          ...(thinking.length === 0 ? {} : { reasoning_content: thinking.join("") }),
          ...(toolCalls.length === 0 ? {} : { tool_calls: toolCalls }),
        },
        finish_reason: stopReason === undefined ? null : mapStopReason(stopReason),
      },
    ],
    ...(usage === undefined ? {} : { usage }),
  };
}
