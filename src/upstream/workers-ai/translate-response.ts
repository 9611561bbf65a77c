import { GatewayError } from "../../errors.ts";
import { ERROR_CODE } from "../../protocol.ts";
import { arr, isObject, type JsonObject, obj, str } from "../json.ts";
import type { ChatCompletion, ChatToolCall } from "../openai-chat/types.ts";
import type { ChunkIdentity } from "../translator.ts";
import { mapFinishReason, readErrorMessage, readFinishReason, readUsage, toolCallIdBase } from "./wire.ts";

/** A tool call of a whole response: `{name, arguments}` (native) or `{id, function:{name, arguments}}`. */
function readToolCalls(calls: readonly unknown[], idBase: string): ChatToolCall[] {
  const out: ChatToolCall[] = [];
  for (const call of calls) {
    if (!isObject(call)) continue;
    const fn = obj(call, "function") ?? call;
    const name = str(fn, "name");
    if (name === undefined) continue;
    const args = fn.arguments;
    out.push({
      id: str(call, "id") || `${idBase}_${out.length}`,
      type: "function",
      function: {
        name,
        arguments: typeof args === "string" ? args : JSON.stringify(isObject(args) ? args : {}),
      },
    });
  }
  return out;
}

/** The text of `response`: a string, or an object in JSON mode, which OpenAI clients expect as JSON text. */
function responseText(body: JsonObject): string | null {
  const response = body.response;
  if (typeof response === "string") return response === "" ? null : response;
  return isObject(response) || Array.isArray(response) ? JSON.stringify(response) : null;
}

/**
 * Translates the output of a non-streaming `env.AI.run` (`{response, tool_calls?, usage?}`, or an
 * OpenAI-shaped completion from newer models) into a `chat.completion`.
 */
export function translateWorkersAiResponse(body: unknown, identity: ChunkIdentity): ChatCompletion {
  if (!isObject(body)) {
    throw new GatewayError(
      502,
      ERROR_CODE.upstreamError,
      "Workers AI returned output that is not a JSON object",
    );
  }
  const errorMessage = readErrorMessage(body);
  if (errorMessage !== undefined) {
    throw new GatewayError(502, ERROR_CODE.upstreamError, `Workers AI error: ${errorMessage}`);
  }
  const idBase = toolCallIdBase(identity.id);
  const first = arr(body, "choices")[0];
  const message = isObject(first) ? obj(first, "message") : undefined;
  const content = message === undefined ? responseText(body) : (str(message, "content") ?? null);
  const reasoning =
    message === undefined ? undefined : (str(message, "reasoning_content") ?? str(message, "reasoning"));
  const toolCalls = readToolCalls(arr(message ?? body, "tool_calls"), idBase);
  const usage = readUsage(body);
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
          content: content === "" ? null : content,
          ...(reasoning ? { reasoning_content: reasoning } : {}),
          ...(toolCalls.length === 0 ? {} : { tool_calls: toolCalls }),
        },
        finish_reason: mapFinishReason(readFinishReason(body), toolCalls.length > 0),
      },
    ],
    ...(usage === undefined ? {} : { usage }),
  };
}
