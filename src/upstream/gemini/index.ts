export { geminiErrorStatus, geminiFormat } from "./format.ts";
export { SKIP_THOUGHT_SIGNATURE } from "./translate-messages.ts";
export { buildGeminiRequest, type GeminiRequestBody, geminiPath } from "./translate-request.ts";
export { translateGeminiResponse } from "./translate-response.ts";
export { GeminiStreamTranslator } from "./translate-stream.ts";
export { geminiTranslator } from "./translator.ts";
