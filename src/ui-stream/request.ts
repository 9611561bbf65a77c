import { GatewayError } from "../errors.ts";
import { ERROR_CODE } from "../protocol.ts";
import type { JsonObject } from "../upstream/json.ts";
import { chatMessages } from "./messages.ts";

/** A chat id: what useChat generates (16 letters and digits) or an app's own, safe in a URL path. */
const CHAT_ID = /^[\w-]{1,128}$/;

/** Fields `useChat`'s default transport writes itself besides `messages`; read or deliberately unused. */
const TRANSPORT_FIELDS = new Set(["id", "messages", "trigger", "messageId"]);

/**
 * Chat Completions fields a page may add through the transport's `body` option, handed to the
 * gateway's own request parser unchanged (it validates them and names a bad one).
 */
const CHAT_FIELDS = new Set([
  "model",
  "models",
  "tools",
  "tool_choice",
  "temperature",
  "top_p",
  "max_tokens",
  "max_completion_tokens",
  "stop",
  "response_format",
]);

/** A `/v1/ui/chat` request as the gateway runs it. */
export interface UiChatRequest {
  /** The chat's id (`useChat`'s `id`): the key its stream is resumed by. */
  readonly chatId: string;
  /** The same request as a streaming Chat Completions body, usage included. */
  readonly chat: JsonObject;
}

function invalid(message: string): GatewayError {
  return new GatewayError(400, ERROR_CODE.invalidRequest, message);
}

/** True for a chat id the resume URL (`/v1/ui/chat/{id}/stream`) can carry. */
export function isChatId(id: string): boolean {
  return CHAT_ID.test(id);
}

/**
 * Reads `useChat`'s request body (`id`, `messages` with parts, `trigger`, `messageId`, and the
 * `model` the page adds with the transport's `body` option) into a Chat Completions request. Any
 * other field is a 400 naming it: the gateway cannot honour what it does not know.
 */
export function parseUiChatRequest(body: JsonObject): UiChatRequest {
  for (const key of Object.keys(body)) {
    if (!TRANSPORT_FIELDS.has(key) && !CHAT_FIELDS.has(key)) {
      throw invalid(
        `unknown field "${key.slice(0, 60)}": /v1/ui/chat takes useChat's body and Chat Completions options`,
      );
    }
  }
  const id = body.id;
  if (typeof id !== "string" || !isChatId(id)) {
    throw invalid("id must be the chat id (1 to 128 letters, digits, '_' or '-'), as useChat sends it");
  }
  const model = body.model;
  if (typeof model !== "string" || model === "") {
    throw invalid(
      'model is required: pass it with the transport\'s body option, e.g. new DefaultChatTransport({ api, body: { model: "demo/story" } })',
    );
  }
  const chat: JsonObject = {};
  for (const key of CHAT_FIELDS) if (body[key] !== undefined) chat[key] = body[key];
  chat.messages = chatMessages(body.messages);
  chat.stream = true;
  // The finish chunk carries the usage: the translators and OpenAI-compatible servers send it only when asked.
  chat.stream_options = { include_usage: true };
  return { chatId: id, chat };
}
