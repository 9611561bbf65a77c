/**
 * The subset of the OpenAI Chat Completions wire types the gateway reads or produces.
 * Request types describe a body already validated by `parseChatRequest`; unknown fields are kept
 * in the raw object for passthrough, never interpreted.
 */

/** A content part of a user/system message. */
export type ChatContentPart =
  | { readonly type: "text"; readonly text: string }
  | { readonly type: "image_url"; readonly image_url: { readonly url: string; readonly detail?: string } };

/** A tool call made by the assistant in an earlier turn. */
export interface ChatToolCall {
  readonly id: string;
  readonly type: "function";
  readonly function: { readonly name: string; readonly arguments: string };
}

/** One message of the conversation. */
export type ChatMessage =
  | { readonly role: "system" | "developer"; readonly content: string | readonly ChatContentPart[] }
  | { readonly role: "user"; readonly content: string | readonly ChatContentPart[] }
  | {
      readonly role: "assistant";
      readonly content: string | readonly ChatContentPart[] | null;
      readonly tool_calls?: readonly ChatToolCall[];
    }
  | {
      readonly role: "tool";
      readonly tool_call_id: string;
      readonly content: string | readonly ChatContentPart[];
    };

/** A function tool offered to the model. */
export interface ChatTool {
  readonly type: "function";
  readonly function: {
    readonly name: string;
    readonly description?: string;
    readonly parameters?: Record<string, unknown>;
    readonly strict?: boolean;
  };
}

/** `tool_choice` as OpenAI accepts it. */
export type ChatToolChoice =
  | "none"
  | "auto"
  | "required"
  | { readonly type: "function"; readonly function: { readonly name: string } };

/** `response_format` as OpenAI accepts it. */
export type ChatResponseFormat =
  | { readonly type: "text" }
  | { readonly type: "json_object" }
  | {
      readonly type: "json_schema";
      readonly json_schema: {
        readonly name: string;
        readonly schema?: Record<string, unknown>;
        readonly strict?: boolean;
      };
    };

/** A validated Chat Completions request. */
export interface ChatRequest {
  readonly model: string;
  /** A fallback chain for this request (tried in order; `model` is its first entry). */
  readonly models?: readonly string[];
  readonly messages: readonly ChatMessage[];
  readonly stream?: boolean;
  readonly stream_options?: { readonly include_usage?: boolean };
  readonly max_tokens?: number;
  readonly max_completion_tokens?: number;
  readonly temperature?: number;
  readonly top_p?: number;
  readonly stop?: string | readonly string[];
  readonly tools?: readonly ChatTool[];
  readonly tool_choice?: ChatToolChoice;
  readonly response_format?: ChatResponseFormat;
  readonly n?: number;
  /** Every other field, exactly as the client sent it (translators must reject what they cannot honour). */
  readonly extra: Readonly<Record<string, unknown>>;
}

/** Token usage as OpenAI reports it. */
export interface ChatUsage {
  readonly prompt_tokens: number;
  readonly completion_tokens: number;
  readonly total_tokens: number;
}

/** A tool-call fragment inside a streamed delta. */
export interface ChatToolCallDelta {
  readonly index: number;
  readonly id?: string;
  readonly type?: "function";
  readonly function?: { readonly name?: string; readonly arguments?: string };
}

/** OpenAI finish reasons. */
export type ChatFinishReason = "stop" | "length" | "tool_calls" | "content_filter";

/** One `chat.completion.chunk` event payload. */
export interface ChatChunk {
  readonly id: string;
  readonly object: "chat.completion.chunk";
  readonly created: number;
  readonly model: string;
  readonly choices: readonly {
    readonly index: number;
    readonly delta: {
      readonly role?: "assistant";
      readonly content?: string | null;
      readonly reasoning_content?: string;
      readonly tool_calls?: readonly ChatToolCallDelta[];
    };
    readonly finish_reason: ChatFinishReason | null;
  }[];
  readonly usage?: ChatUsage | null;
}

/** A non-streaming `chat.completion` response. */
export interface ChatCompletion {
  readonly id: string;
  readonly object: "chat.completion";
  readonly created: number;
  readonly model: string;
  readonly choices: readonly {
    readonly index: number;
    readonly message: {
      readonly role: "assistant";
      readonly content: string | null;
      readonly reasoning_content?: string;
      readonly tool_calls?: readonly ChatToolCall[];
    };
    readonly finish_reason: ChatFinishReason | null;
  }[];
  readonly usage?: ChatUsage;
}
