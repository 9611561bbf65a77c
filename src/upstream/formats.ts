import { anthropicFormat } from "./anthropic/format.ts";
import type { FormatName, WireFormat } from "./format.ts";
import { geminiFormat } from "./gemini/format.ts";
import { openAiChatFormat } from "./openai-chat/format.ts";
import { openAiResponsesFormat } from "./openai-responses/format.ts";
import { workersAiFormat } from "./workers-ai/format.ts";

/** Every wire format by name, so a stream's format can be recorded and found again (e.g. by the Durable Object). */
export const FORMATS: Readonly<Record<FormatName, WireFormat>> = {
  "openai-chat": openAiChatFormat,
  "openai-responses": openAiResponsesFormat,
  anthropic: anthropicFormat,
  gemini: geminiFormat,
  "workers-ai": workersAiFormat,
};

/** True when `name` is a known format name. */
export function isFormatName(name: unknown): name is FormatName {
  return typeof name === "string" && Object.hasOwn(FORMATS, name);
}
