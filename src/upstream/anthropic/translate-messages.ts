import { GatewayError } from "../../errors.ts";
import { ERROR_CODE } from "../../protocol.ts";
import type { ChatContentPart, ChatMessage, ChatToolCall } from "../openai-chat/types.ts";
import { isRecord, parseJson } from "./json.ts";

/** An Anthropic request content block (the subset the translation produces). */
export type AnthropicBlock =
  | { readonly type: "text"; readonly text: string }
  | {
      readonly type: "image";
      readonly source:
        | { readonly type: "base64"; readonly media_type: string; readonly data: string }
        | { readonly type: "url"; readonly url: string };
    }
  | { readonly type: "tool_use"; readonly id: string; readonly name: string; readonly input: unknown }
  | {
      readonly type: "tool_result";
      readonly tool_use_id: string;
      readonly content?: readonly AnthropicBlock[];
    };

/** One Anthropic conversation turn. */
export interface AnthropicMessage {
  readonly role: "user" | "assistant";
  readonly content: readonly AnthropicBlock[];
}

/** The translated conversation: top-level system text blocks plus strictly alternating turns. */
export interface TranslatedConversation {
  readonly system: readonly { readonly type: "text"; readonly text: string }[];
  readonly messages: readonly AnthropicMessage[];
}

/** Image media types the Messages API accepts in a base64 source. */
const IMAGE_MEDIA_TYPES: ReadonlySet<string> = new Set([
  "image/jpeg",
  "image/png",
  "image/gif",
  "image/webp",
]);

const DATA_URL = /^data:([^;,]+);base64,(.*)$/s;

function badRequest(message: string): GatewayError {
  return new GatewayError(400, ERROR_CODE.invalidRequest, message);
}

function unsupported(message: string): GatewayError {
  return new GatewayError(400, ERROR_CODE.unsupportedParameter, message);
}

/** An OpenAI `image_url` as an Anthropic image block: data URLs inline, https URLs by reference. */
function imageBlock(url: string): AnthropicBlock {
  if (url.startsWith("data:")) {
    const m = DATA_URL.exec(url);
    const mediaType = m?.[1];
    const data = m?.[2];
    if (mediaType === undefined || data === undefined) {
      throw unsupported("image_url: Anthropic accepts only base64 data URLs (data:<type>;base64,...)");
    }
    if (!IMAGE_MEDIA_TYPES.has(mediaType)) {
      throw unsupported(
        `image_url: media type "${mediaType.slice(0, 64)}" is not supported by Anthropic (jpeg, png, gif, webp)`,
      );
    }
    return { type: "image", source: { type: "base64", media_type: mediaType, data } };
  }
  if (url.startsWith("https://")) return { type: "image", source: { type: "url", url } };
  throw unsupported("image_url: Anthropic accepts only https:// or base64 data: image URLs");
}

/**
 * Content parts as Anthropic blocks. Empty text is dropped because Anthropic rejects empty text
 * blocks, and OpenAI clients routinely send `content: ""` next to tool calls. The `detail` hint of
 * an image has no Anthropic equivalent and only tunes resolution, so it is not forwarded.
 */
function contentBlocks(
  content: string | readonly ChatContentPart[] | null,
  allowImages: boolean,
): AnthropicBlock[] {
  if (content === null) return [];
  if (typeof content === "string") return content === "" ? [] : [{ type: "text", text: content }];
  const blocks: AnthropicBlock[] = [];
  for (const part of content) {
    if (part.type === "text") {
      if (part.text !== "") blocks.push({ type: "text", text: part.text });
    } else if (allowImages) {
      blocks.push(imageBlock(part.image_url.url));
    } else {
      throw unsupported("image_url: Anthropic accepts images only in user and tool messages");
    }
  }
  return blocks;
}

/** Anthropic wants the tool input as an object, OpenAI sends it as a JSON string. */
function toolUseBlock(call: ChatToolCall): AnthropicBlock {
  const args = call.function.arguments.trim();
  // Some clients echo an empty string for a call without arguments.
  const input = args === "" ? {} : parseJson(args);
  if (!isRecord(input)) {
    throw badRequest(
      `messages: tool call "${call.id.slice(0, 64)}" has arguments that are not a JSON object (Anthropic requires one)`,
    );
  }
  return { type: "tool_use", id: call.id, name: call.function.name, input };
}

function systemText(content: string | readonly ChatContentPart[]): { type: "text"; text: string }[] {
  const out: { type: "text"; text: string }[] = [];
  for (const b of contentBlocks(content, false)) if (b.type === "text") out.push(b);
  return out;
}

/** Tool results must lead their user turn (Anthropic rejects text before them), so they are moved first. */
function toolResultsFirst(blocks: readonly AnthropicBlock[]): AnthropicBlock[] {
  const results = blocks.filter((b) => b.type === "tool_result");
  if (results.length === 0 || results.length === blocks.length) return [...blocks];
  return [...results, ...blocks.filter((b) => b.type !== "tool_result")];
}

/**
 * OpenAI messages to Anthropic's shape. System and developer messages, wherever they appear, become
 * the top-level `system` (Anthropic has no system role inside `messages`). Tool messages become user
 * turns of `tool_result` blocks. Consecutive turns of the same role are merged into one, because
 * Anthropic requires user and assistant to alternate; this also merges parallel tool results into
 * one user turn, as Anthropic expects. A message that ends up with no blocks (an assistant turn with
 * `content: null` and no tool calls) is skipped rather than sent as an empty turn Anthropic rejects.
 */
export function translateMessages(messages: readonly ChatMessage[]): TranslatedConversation {
  const system: { type: "text"; text: string }[] = [];
  const turns: { role: "user" | "assistant"; content: AnthropicBlock[] }[] = [];
  const append = (role: "user" | "assistant", blocks: readonly AnthropicBlock[]): void => {
    if (blocks.length === 0) return;
    const last = turns[turns.length - 1];
    if (last !== undefined && last.role === role) last.content.push(...blocks);
    else turns.push({ role, content: [...blocks] });
  };
  for (const m of messages) {
    switch (m.role) {
      case "system":
      case "developer":
        system.push(...systemText(m.content));
        break;
      case "user":
        append("user", contentBlocks(m.content, true));
        break;
      case "assistant":
        append("assistant", [...contentBlocks(m.content, false), ...(m.tool_calls ?? []).map(toolUseBlock)]);
        break;
      case "tool": {
        // An empty result is sent without `content`, which Anthropic allows, not as an empty text block.
        const content = contentBlocks(m.content, true);
        append("user", [
          { type: "tool_result", tool_use_id: m.tool_call_id, ...(content.length === 0 ? {} : { content }) },
        ]);
        break;
      }
    }
  }
  return {
    system,
    messages: turns.map((t) =>
      t.role === "user" ? { role: t.role, content: toolResultsFirst(t.content) } : t,
    ),
  };
}
