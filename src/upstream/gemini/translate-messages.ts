import { GatewayError } from "../../errors.ts";
import { ERROR_CODE } from "../../protocol.ts";
import { isObject, type JsonObject, tryParse } from "../json.ts";
import type { ChatContentPart, ChatMessage, ChatToolCall } from "../openai-chat/types.ts";

/** A Gemini request part. */
export type GeminiRequestPart =
  | { readonly text: string }
  | { readonly inlineData: { readonly mimeType: string; readonly data: string } }
  | {
      readonly functionCall: { readonly name: string; readonly args: JsonObject };
      readonly thoughtSignature?: string;
    }
  | { readonly functionResponse: { readonly name: string; readonly response: JsonObject } };

/** One turn of a Gemini conversation. */
export interface GeminiContent {
  readonly role: "user" | "model";
  readonly parts: GeminiRequestPart[];
}

/** The conversation half of a `generateContent` body. */
export interface GeminiConversation {
  readonly systemInstruction: { readonly parts: readonly { readonly text: string }[] } | undefined;
  readonly contents: readonly GeminiContent[];
}

/**
 * Gemini 3 rejects a replayed model turn whose function call lacks the `thoughtSignature` it was
 * generated with, and OpenAI's message format has nowhere to carry one. Google documents this value
 * as the way to replay calls whose signature is unknown (history from another model or client).
 * Only the first call of a turn needs it: parallel calls share the first call's signature.
 */
export const SKIP_THOUGHT_SIGNATURE = "skip_thought_signature_validator";

/** `data:<mime>;base64,<payload>`; other parameters (`;charset=`) may sit between mime type and base64. */
const DATA_URL = /^data:([^;,]+)((?:;[^;,]*)*);base64,([A-Za-z0-9+/=\s]*)$/;

function invalid(message: string): GatewayError {
  return new GatewayError(400, ERROR_CODE.invalidRequest, message);
}

function unsupported(field: string, why: string): GatewayError {
  return new GatewayError(
    400,
    ERROR_CODE.unsupportedParameter,
    `unsupported parameter "${field}" for provider Gemini: ${why}`,
  );
}

/** One image part: base64 data URLs become `inlineData`; remote URLs are refused with the reason. */
function imagePart(url: string, field: string): GeminiRequestPart {
  const m = DATA_URL.exec(url);
  if (m !== null) {
    const mimeType = m[1] ?? "";
    const data = (m[3] ?? "").replace(/\s/g, "");
    return { inlineData: { mimeType, data } };
  }
  if (url.startsWith("data:")) throw invalid(`${field}: an image data URL must be base64-encoded`);
  throw unsupported(
    field,
    "the Gemini API does not fetch image URLs given inline; send the image as a base64 data URL " +
      "(Gemini's fileData only refers to files uploaded through its Files API)",
  );
}

/** Message content as Gemini parts; images only where `allowImages`. Empty text is dropped (Gemini rejects it). */
function contentParts(
  content: string | readonly ChatContentPart[] | null,
  field: string,
  allowImages: boolean,
): GeminiRequestPart[] {
  if (content === null) return [];
  if (typeof content === "string") return content === "" ? [] : [{ text: content }];
  const parts: GeminiRequestPart[] = [];
  content.forEach((part, j) => {
    if (part.type === "text") {
      if (part.text !== "") parts.push({ text: part.text });
    } else if (allowImages) {
      parts.push(imagePart(part.image_url.url, `${field}[${j}].image_url`));
    } else {
      throw unsupported(`${field}[${j}]`, "images are only accepted in user messages");
    }
  });
  return parts;
}

/** The text of system/tool content (text parts only). */
function textOf(content: string | readonly ChatContentPart[], field: string): string {
  if (typeof content === "string") return content;
  return content
    .map((part, j) => {
      if (part.type !== "text") throw unsupported(`${field}[${j}]`, "only text is accepted here");
      return part.text;
    })
    .join("");
}

function callPart(call: ChatToolCall, first: boolean, field: string): GeminiRequestPart {
  const raw = call.function.arguments.trim();
  const args = raw === "" ? {} : tryParse(raw);
  if (!isObject(args)) throw invalid(`${field}.function.arguments must be a JSON object`);
  return {
    functionCall: { name: call.function.name, args },
    ...(first ? { thoughtSignature: SKIP_THOUGHT_SIGNATURE } : {}),
  };
}

/** A tool result as Gemini's `functionResponse.response`, which must be a JSON object. */
function toolResponse(text: string): JsonObject {
  const parsed = tryParse(text);
  return isObject(parsed) ? parsed : { content: text };
}

/**
 * Translates OpenAI messages into Gemini's `systemInstruction` + `contents`. System and developer
 * messages (wherever they appear) join the system instruction; assistant turns become role "model";
 * tool results become `functionResponse` parts of a user turn, named after the call they answer.
 * Consecutive turns of one role are merged, because Gemini expects alternating roles and needs all
 * responses to one turn's parallel calls in a single content.
 */
export function translateMessages(messages: readonly ChatMessage[]): GeminiConversation {
  const system: { text: string }[] = [];
  const contents: GeminiContent[] = [];
  /** Tool-call id → function name, from assistant turns seen so far. */
  const callNames = new Map<string, string>();

  const push = (role: GeminiContent["role"], parts: GeminiRequestPart[]): void => {
    if (parts.length === 0) return;
    const last = contents[contents.length - 1];
    if (last !== undefined && last.role === role) last.parts.push(...parts);
    else contents.push({ role, parts });
  };

  messages.forEach((m, i) => {
    const field = `messages[${i}]`;
    switch (m.role) {
      case "system":
      case "developer": {
        const text = textOf(m.content, `${field}.content`);
        if (text !== "") system.push({ text });
        break;
      }
      case "user":
        push("user", contentParts(m.content, `${field}.content`, true));
        break;
      case "assistant": {
        const parts = contentParts(m.content, `${field}.content`, false);
        (m.tool_calls ?? []).forEach((call, k) => {
          callNames.set(call.id, call.function.name);
          parts.push(callPart(call, k === 0, `${field}.tool_calls[${k}]`));
        });
        push("model", parts);
        break;
      }
      case "tool": {
        const name = callNames.get(m.tool_call_id);
        if (name === undefined) {
          throw invalid(`${field}.tool_call_id does not match a tool call of an earlier assistant message`);
        }
        const response = toolResponse(textOf(m.content, `${field}.content`));
        push("user", [{ functionResponse: { name, response } }]);
        break;
      }
    }
  });

  if (contents.length === 0)
    throw invalid("messages must contain at least one non-empty user or assistant message");
  return { systemInstruction: system.length === 0 ? undefined : { parts: system }, contents };
}
