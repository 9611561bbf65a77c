export { anthropicTranslator } from "./chat-translator.ts";
export { anthropicFormat } from "./format.ts";
export { type AnthropicRequestBody, buildAnthropicRequest, DEFAULT_MAX_TOKENS } from "./translate-request.ts";
export { translateAnthropicResponse } from "./translate-response.ts";
export { AnthropicStreamTranslator, createAnthropicStream } from "./translate-stream.ts";
export { ANTHROPIC, ANTHROPIC_EVENT, mapStopReason } from "./wire.ts";
