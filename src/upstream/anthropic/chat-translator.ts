import type { ChatTranslator } from "../translator.ts";
import { buildAnthropicRequest } from "./translate-request.ts";
import { translateAnthropicResponse } from "./translate-response.ts";
import { createAnthropicStream } from "./translate-stream.ts";

/** OpenAI Chat Completions ⇄ Anthropic Messages, for the unified `/v1/chat/completions` endpoint. */
export const anthropicTranslator: ChatTranslator = {
  buildRequest: buildAnthropicRequest,
  createStream: createAnthropicStream,
  translateResponse: translateAnthropicResponse,
};
