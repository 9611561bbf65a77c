import type { ChatTranslator } from "../translator.ts";
import { buildWorkersAiRequest } from "./translate-request.ts";
import { translateWorkersAiResponse } from "./translate-response.ts";
import { WorkersAiStreamTranslator } from "./translate-stream.ts";

/**
 * OpenAI Chat Completions ⇄ Workers AI text generation. The call goes through the `AI` binding, so
 * `buildRequest(...).path` is the model name for `env.AI.run(path, body)`, not a URL path.
 */
export const workersAiTranslator: ChatTranslator = {
  buildRequest: buildWorkersAiRequest,
  createStream: (identity) => new WorkersAiStreamTranslator(identity),
  translateResponse: translateWorkersAiResponse,
};
