import type { ChatTranslator } from "../translator.ts";
import { buildGeminiRequest } from "./translate-request.ts";
import { translateGeminiResponse } from "./translate-response.ts";
import { GeminiStreamTranslator } from "./translate-stream.ts";

/** OpenAI Chat Completions ⇄ Gemini `generateContent` / `streamGenerateContent?alt=sse`. */
export const geminiTranslator: ChatTranslator = {
  buildRequest: buildGeminiRequest,
  createStream: (identity) => new GeminiStreamTranslator(identity),
  translateResponse: translateGeminiResponse,
};
