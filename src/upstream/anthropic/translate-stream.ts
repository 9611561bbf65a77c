import { ERROR_CODE, type ErrorCode } from "../../protocol.ts";
import type { SseEvent } from "../../sse/types.ts";
import type { ChatChunk, ChatFinishReason, ChatUsage } from "../openai-chat/types.ts";
import type { ChunkIdentity, StreamTranslator, TranslateStep } from "../translator.ts";
import { isRecord, type JsonObject, objectField, parseJson, stringField } from "./json.ts";
import {
  ANTHROPIC_EVENT,
  type AnthropicUsage,
  mapStopReason,
  mergeUsage,
  readBlockDelta,
  readErrorMessage,
  toChatUsage,
} from "./wire.ts";

type Delta = ChatChunk["choices"][number]["delta"];

/**
 * Anthropic Messages stream → OpenAI `chat.completion.chunk`s, one instance per response.
 *
 * Mapping choices:
 * - `thinking_delta` becomes `delta.reasoning_content` (the de-facto field OpenAI-compatible
 *   servers use for reasoning); `signature_delta` is an opaque integrity token only Anthropic can
 *   verify, so it is dropped.
 * - Only client `tool_use` blocks become `tool_calls`, numbered 0, 1, ... in order of appearance
 *   (OpenAI's `index` counts tool calls, not Anthropic content blocks). `server_tool_use` and its
 *   `*_tool_result` blocks (code execution, web search) ran on Anthropic's side: the client must not
 *   execute them, so they are not surfaced.
 * - `done` is returned only after `message_stop`; anything else that ends the stream is an error.
 */
export class AnthropicStreamTranslator implements StreamTranslator {
  readonly #identity: ChunkIdentity;
  #state: "open" | "done" | "failed" = "open";
  #roleSent = false;
  #finishSent = false;
  #usage: AnthropicUsage = {};
  /** Anthropic content-block index → OpenAI tool-call index, for client tool_use blocks only. */
  readonly #toolIndex = new Map<number, number>();

  /** Creates a translator for one response whose chunks carry `identity`. */
  constructor(identity: ChunkIdentity) {
    this.#identity = identity;
  }

  malformed = 0;

  /** Exact usage as last reported by the upstream (prompt includes cached input tokens). */
  get usage(): ChatUsage | undefined {
    return toChatUsage(this.#usage);
  }

  /** Translates one upstream event. Unknown event types are ignored, as the Anthropic SDK does. */
  push(ev: SseEvent): TranslateStep[] {
    if (this.#state !== "open") return [];
    switch (ev.event) {
      case ANTHROPIC_EVENT.messageStart:
        return this.#withPayload(ev, (p) => this.#messageStart(p));
      case ANTHROPIC_EVENT.contentBlockStart:
        return this.#withPayload(ev, (p) => this.#blockStart(p));
      case ANTHROPIC_EVENT.contentBlockDelta:
        return this.#withPayload(ev, (p) => this.#blockDelta(p));
      case ANTHROPIC_EVENT.messageDelta:
        return this.#withPayload(ev, (p) => this.#messageDelta(p));
      case ANTHROPIC_EVENT.messageStop:
        return this.#messageStop();
      case ANTHROPIC_EVENT.error:
        return this.#fail(ERROR_CODE.upstreamError, readErrorMessage(ev.data));
      default:
        // ping, content_block_stop, and event types added after this was written.
        return [];
    }
  }

  /** The upstream ended: `done` was already returned after `message_stop`, otherwise this is a cut. */
  end(cleanEof: boolean): TranslateStep[] {
    if (this.#state !== "open") return [];
    return this.#fail(
      ERROR_CODE.upstreamInterrupted,
      cleanEof
        ? "the upstream stream ended before message_stop"
        : "reading the upstream stream failed before message_stop",
    );
  }

  #fail(code: ErrorCode, message: string): TranslateStep[] {
    this.#state = "failed";
    return [{ kind: "error", error: { code, message } }];
  }

  /** An event that should carry JSON but does not is an upstream failure, never a silent skip. */
  #withPayload(ev: SseEvent, handle: (payload: JsonObject) => TranslateStep[]): TranslateStep[] {
    const payload = parseJson(ev.data);
    if (!isRecord(payload)) {
      // An unterminated block is the last one before EOF: broken JSON there means the body was cut.
      // A whole event that is not JSON (a rewritten body) is skipped and counted, never forwarded.
      if (ev.terminated) {
        this.malformed++;
        return [];
      }
      return this.#fail(ERROR_CODE.upstreamInterrupted, "the upstream stream ended inside an event");
    }
    return handle(payload);
  }

  #chunk(delta: Delta, finishReason: ChatFinishReason | null = null): TranslateStep {
    const { id, created, model, includeUsage } = this.#identity;
    // OpenAI puts the role on the first chunk only.
    const d: Delta = this.#roleSent ? delta : { role: "assistant", ...delta };
    this.#roleSent = true;
    const chunk: ChatChunk = {
      id,
      object: "chat.completion.chunk",
      created,
      model,
      choices: [{ index: 0, delta: d, finish_reason: finishReason }],
      // With include_usage, OpenAI sends `usage: null` on every chunk but the final usage chunk.
      ...(includeUsage ? { usage: null } : {}),
    };
    return { kind: "chunk", chunk };
  }

  #messageStart(payload: JsonObject): TranslateStep[] {
    const message = objectField(payload, "message");
    this.#usage = mergeUsage(this.#usage, message === undefined ? undefined : objectField(message, "usage"));
    // Like OpenAI's first chunk: the role with empty content, so clients see the reply begin.
    return [this.#chunk({ content: "" })];
  }

  #blockStart(payload: JsonObject): TranslateStep[] {
    const index = payload.index;
    const block = objectField(payload, "content_block");
    if (typeof index !== "number" || block === undefined) return [];
    switch (stringField(block, "type")) {
      case "tool_use": {
        const toolIndex = this.#toolIndex.size;
        this.#toolIndex.set(index, toolIndex);
        const call = {
          index: toolIndex,
          id: stringField(block, "id") ?? "",
          type: "function" as const,
          function: { name: stringField(block, "name") ?? "", arguments: "" },
        };
        return [this.#chunk({ tool_calls: [call] })];
      }
      // Start blocks normally carry empty text, but a non-empty one is content all the same.
      case "text": {
        const text = stringField(block, "text");
        return text === undefined || text === "" ? [] : [this.#chunk({ content: text })];
      }
      case "thinking": {
        const thinking = stringField(block, "thinking");
        return thinking === undefined || thinking === ""
          ? []
          : [this.#chunk({ reasoning_content: thinking })];
      }
      default:
        // server_tool_use, *_tool_result, redacted_thinking: nothing the client should act on.
        return [];
    }
  }

  #blockDelta(payload: JsonObject): TranslateStep[] {
    const d = readBlockDelta(payload);
    if (d === undefined || d.text === "") return [];
    switch (d.kind) {
      case "text":
        return [this.#chunk({ content: d.text })];
      case "thinking":
        return [this.#chunk({ reasoning_content: d.text })];
      case "input": {
        // Input for a server_tool_use block has no client tool call to attach to.
        const toolIndex = this.#toolIndex.get(d.index);
        if (toolIndex === undefined) return [];
        return [this.#chunk({ tool_calls: [{ index: toolIndex, function: { arguments: d.text } }] })];
      }
      case "citation":
        // OpenAI chunks have no citation field; the cited text is a quote of the client's own source.
        return [];
    }
  }

  #messageDelta(payload: JsonObject): TranslateStep[] {
    this.#usage = mergeUsage(this.#usage, objectField(payload, "usage"));
    const delta = objectField(payload, "delta");
    const reason = delta === undefined ? undefined : stringField(delta, "stop_reason");
    if (reason === undefined || this.#finishSent) return [];
    this.#finishSent = true;
    return [this.#chunk({}, mapStopReason(reason))];
  }

  #messageStop(): TranslateStep[] {
    this.#state = "done";
    const steps: TranslateStep[] = [];
    // Anthropic always sends the stop reason first; without it the message still ended normally.
    if (!this.#finishSent) steps.push(this.#chunk({}, "stop"));
    const usage = this.usage;
    if (this.#identity.includeUsage && usage !== undefined) {
      const { id, created, model } = this.#identity;
      steps.push({
        kind: "chunk",
        chunk: { id, object: "chat.completion.chunk", created, model, choices: [], usage },
      });
    }
    steps.push({ kind: "done" });
    return steps;
  }
}

/** A fresh stream translator for one Anthropic response. */
export function createAnthropicStream(identity: ChunkIdentity): StreamTranslator {
  return new AnthropicStreamTranslator(identity);
}
