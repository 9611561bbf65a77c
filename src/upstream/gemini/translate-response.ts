import { GatewayError } from "../../errors.ts";
import { ERROR_CODE } from "../../protocol.ts";
import { isObject } from "../json.ts";
import type { ChatCompletion, ChatToolCall } from "../openai-chat/types.ts";
import type { ChunkIdentity } from "../translator.ts";
import {
  describeError,
  mapFinishReason,
  readBlockReason,
  readCandidates,
  readError,
  toChatUsage,
  toolCallIdBase,
} from "./wire.ts";

type Choice = ChatCompletion["choices"][number];

/**
 * Translates a non-streaming `generateContent` response into a `chat.completion`: each candidate is
 * one choice, non-thought text its content, thought text its `reasoning_content`, function calls its
 * `tool_calls`. A refused prompt (`promptFeedback.blockReason`, no candidates) is one empty choice
 * with `content_filter`.
 */
export function translateGeminiResponse(body: unknown, identity: ChunkIdentity): ChatCompletion {
  if (!isObject(body)) {
    throw new GatewayError(
      502,
      ERROR_CODE.upstreamError,
      "Gemini returned a response that is not a JSON object",
    );
  }
  const error = readError(body);
  if (error !== undefined) {
    throw new GatewayError(502, ERROR_CODE.upstreamError, `Gemini error ${describeError(error)}`);
  }
  const idBase = toolCallIdBase(identity.id);
  let callSeq = 0;
  const choices: Choice[] = readCandidates(body).map((candidate) => {
    let content = "";
    let reasoning = "";
    const toolCalls: ChatToolCall[] = [];
    for (const part of candidate.parts) {
      if (part.kind === "call") {
        toolCalls.push({
          id: `${idBase}_${callSeq++}`,
          type: "function",
          function: { name: part.name, arguments: JSON.stringify(part.args) },
        });
      } else if (part.thought) {
        reasoning += part.text;
      } else {
        content += part.text;
      }
    }
    return {
      index: candidate.index,
      message: {
        role: "assistant",
        content: content === "" ? null : content,
        ...(reasoning === "" ? {} : { reasoning_content: reasoning }),
        ...(toolCalls.length === 0 ? {} : { tool_calls: toolCalls }),
      },
      finish_reason:
        candidate.finishReason === undefined
          ? null
          : mapFinishReason(candidate.finishReason, toolCalls.length > 0),
    };
  });
  if (choices.length === 0 && readBlockReason(body) !== undefined) {
    choices.push({
      index: 0,
      message: { role: "assistant", content: null },
      finish_reason: "content_filter",
    });
  }
  const usage = toChatUsage(body);
  return {
    id: identity.id,
    object: "chat.completion",
    created: identity.created,
    model: identity.model,
    choices,
    ...(usage === undefined ? {} : { usage }),
  };
}
