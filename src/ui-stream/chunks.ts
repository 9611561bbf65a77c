/**
 * The AI SDK UI message stream chunks the gateway writes (a subset of `ai`'s UIMessageChunk, protocol
 * v1): each is one SSE `data:` line of JSON. Field names are the protocol's own.
 */

/** Finish reasons of the protocol (`ai`'s FinishReason), the ones an OpenAI finish maps onto. */
export type UiFinishReason = "stop" | "length" | "content-filter" | "tool-calls" | "error" | "other";

/** Token counts in the AI SDK's own shape (LanguageModelUsage), from the upstream's exact usage. */
export interface UiUsage {
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly totalTokens: number;
}

/**
 * What the gateway puts into the message's `metadata` (`useChat` sets `message.metadata` from it):
 * the answer's usage when the upstream reported it, the guardrail rule that stopped it. The target
 * that answered is the response's `x-gateway-target` header.
 */
export interface UiMessageMetadata {
  readonly usage?: UiUsage;
  readonly guardrail?: string;
}

/** One chunk of the stream. */
export type UiChunk =
  | { readonly type: "start"; readonly messageId?: string }
  | { readonly type: "start-step" }
  | { readonly type: "finish-step" }
  | { readonly type: "text-start" | "text-end" | "reasoning-start" | "reasoning-end"; readonly id: string }
  | { readonly type: "text-delta" | "reasoning-delta"; readonly id: string; readonly delta: string }
  | { readonly type: "tool-input-start"; readonly toolCallId: string; readonly toolName: string }
  | { readonly type: "tool-input-delta"; readonly toolCallId: string; readonly inputTextDelta: string }
  | {
      readonly type: "tool-input-available";
      readonly toolCallId: string;
      readonly toolName: string;
      readonly input: unknown;
    }
  | {
      readonly type: "tool-input-error";
      readonly toolCallId: string;
      readonly toolName: string;
      readonly input: unknown;
      readonly errorText: string;
    }
  | {
      readonly type: "finish";
      readonly finishReason?: UiFinishReason;
      readonly messageMetadata?: UiMessageMetadata;
    }
  | { readonly type: "error"; readonly errorText: string };
