/** Public types of the browser client: options, deltas, results and callback payloads. */

import type { SocketFactory } from "./socket-connection.ts";

/** One incremental piece of the answer, in the order the gateway sent it. */
export type ChatDelta =
  | { readonly type: "text"; readonly text: string }
  | { readonly type: "reasoning"; readonly text: string }
  | { readonly type: "refusal"; readonly text: string }
  | {
      readonly type: "tool_call";
      /** Position of the call in the answer; fragments with the same index belong together. */
      readonly index: number;
      readonly id?: string;
      readonly name?: string;
      /** The next fragment of the JSON arguments (not the whole string). */
      readonly arguments: string;
    };

/** A complete tool call, assembled from its fragments. */
export interface ToolCall {
  readonly index: number;
  readonly id: string | null;
  readonly name: string | null;
  readonly arguments: string;
}

/** Token usage as the gateway reports it (OpenAI field names; extra detail fields kept as sent). */
export interface ChatUsage {
  readonly prompt_tokens?: number;
  readonly completion_tokens?: number;
  readonly total_tokens?: number;
  readonly [field: string]: unknown;
}

/**
 * The gateway's own measurements of a stream, from its closing `: timings` comment (milliseconds
 * unless named otherwise). A field the gateway did not measure (no token came) is absent.
 */
export interface ServerTimings {
  /** Request received at the gateway -> first content byte sent to the client. */
  readonly gatewayTtftMs?: number;
  /** Upstream request sent -> first content event from the upstream. */
  readonly upstreamTtftMs?: number;
  /** gatewayTtftMs - upstreamTtftMs: what the gateway added before the first token, hold-back included. */
  readonly overheadMs?: number;
  /** Request received -> upstream request sent. */
  readonly preUpstreamMs?: number;
  /** Upstream request sent -> upstream response headers. */
  readonly upstreamConnectMs?: number;
  /** Total time the guardrail held text back. */
  readonly holdbackMs?: number;
  readonly durationMs?: number;
  readonly outputTokens?: number;
  /** Whether `outputTokens` is the upstream's usage count or the gateway's estimate. */
  readonly tokensSource?: "exact" | "estimated";
  readonly tokensPerSecond?: number;
  readonly gapP50Ms?: number;
  readonly gapMaxMs?: number;
  /** Resumes the gateway served for this stream. */
  readonly resumes?: number;
}

/** The complete answer: only ever produced after the stream's `[DONE]`. */
export interface ChatResult {
  /** The assistant's text (choice 0). */
  readonly text: string;
  /** Reasoning text, for models and providers that stream it (`reasoning_content` / `reasoning`). */
  readonly reasoning: string;
  /** A refusal message, when the model refused (OpenAI's `delta.refusal`). */
  readonly refusal: string;
  readonly toolCalls: readonly ToolCall[];
  /** `stop`, `length`, `tool_calls`, `content_filter`, ...; null if the stream never said. */
  readonly finishReason: string | null;
  /** True when the answer was stopped by a content filter (the gateway's guardrail): complete but filtered. */
  readonly filtered: boolean;
  /** Present when the request asked for it (`stream_options.include_usage`). */
  readonly usage: ChatUsage | null;
  /** Client-side time to first token (text, refusal or tool call) in ms; null if none came. */
  readonly ttftMs: number | null;
  /** How many times the client resumed the stream after a broken connection. */
  readonly resumes: number;
  /** The gateway's stream id, or null if the server did not send one. */
  readonly streamId: string | null;
  /**
   * SSE events received (each counted once, replays excluded). Over the WebSocket, the events of the
   * stream: its end is `stream.done`, not a `[DONE]` event, so one fewer than over SSE.
   */
  readonly events: number;
  /**
   * The gateway's timings of this stream (its closing `: timings` comment), or null when the server
   * sent none: a server other than the gateway, or a connection that ended right after `[DONE]`.
   */
  readonly serverTimings: ServerTimings | null;
}

/** Payload of `onFirstToken`. */
export interface FirstTokenInfo {
  readonly ttftMs: number;
}

/** Payload of `onInterruption`: the connection broke and the client will try to resume. */
export interface InterruptionInfo {
  readonly streamId: string;
  /** 1 for the first attempt after progress, counting up while attempts fail. */
  readonly attempt: number;
  /** How long the client waits before this attempt. */
  readonly delayMs: number;
  readonly lastEventId: number;
  readonly receivedCharacters: number;
  readonly receivedEvents: number;
  /** The network error, if the connection failed rather than ended early. */
  readonly error: unknown;
}

/** Payload of `onResume`: a resume request was accepted and replay is starting. */
export interface ResumeInfo {
  readonly streamId: string;
  /** The cursor sent as `Last-Event-ID`. */
  readonly lastEventId: number;
  /** Resumes so far, this one included. */
  readonly resumes: number;
}

/** The subset of `fetch` the client uses; the global `fetch` fits, and tests inject a fake. */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/** Options of `streamChat`. */
export interface StreamChatOptions {
  /** Any URL that streams OpenAI chat chunks: `/v1/chat/completions`, `/openai/v1/chat/completions`, ... */
  readonly url: string;
  /** An OpenAI Chat Completions body; `stream: true` is set by the client. */
  readonly body: Readonly<Record<string, unknown>>;
  /** Sent on the POST and, minus content headers, on resume and cancel (they need the same credentials). */
  readonly headers?: HeadersInit;
  /** Aborting it is the same as calling `abort()`. */
  readonly signal?: AbortSignal;
  readonly fetch?: FetchLike;
  /**
   * `"sse"` (default): POST, resumed with `GET /v1/streams/{id}`. `"websocket"`: the gateway's
   * `GET /v1/ws` on the origin of `url`, one socket per connection, resumed on a new socket; the
   * bearer of an `Authorization` header in `headers` goes in `?token=` (browsers cannot set socket
   * headers). Same deltas, result, errors and guarantees either way.
   */
  readonly transport?: "sse" | "websocket";
  /** The socket URL for `transport: "websocket"` (default `ws(s)://<origin of url>/v1/ws[?token=]`). */
  readonly socketUrl?: string;
  /** Opens the socket (default: the global `WebSocket`); for tests and runtimes without one. */
  readonly webSocket?: SocketFactory;
  /** Resume attempts allowed in a row without receiving a new event (default 5). */
  readonly retries?: number;
  /** First backoff step in ms (default 250); doubles per failed attempt, with jitter. */
  readonly backoffMs?: number;
  /** Upper bound of one backoff wait in ms (default 8000). */
  readonly maxBackoffMs?: number;
  readonly onFirstToken?: (info: FirstTokenInfo) => void;
  readonly onUsage?: (usage: ChatUsage) => void;
  readonly onInterruption?: (info: InterruptionInfo) => void;
  readonly onResume?: (info: ResumeInfo) => void;
  readonly onDone?: (result: ChatResult) => void;
  /** Clock for TTFT (default `performance.now`); for tests. */
  readonly now?: () => number;
  /** Waits `ms`, resolving early when `signal` aborts (default `setTimeout`); for tests. */
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Source of jitter in [0, 1) (default `Math.random`); for tests. */
  readonly random?: () => number;
}

/** A running chat stream: iterate it for deltas, await `done` for the complete answer. */
export interface ChatStream extends AsyncIterable<ChatDelta> {
  /**
   * Resolves with the complete answer after `[DONE]`; rejects with `GatewayStreamError`,
   * `StreamInterruptedError` or `StreamAbortedError`, never with a partial answer.
   */
  readonly done: Promise<ChatResult>;
  /** The gateway's stream id, once the response headers arrived. */
  readonly streamId: string | null;
  /**
   * Where the stream can be read again (`GET`, with `Last-Event-ID` to continue after an event),
   * with the resume token in the query when the gateway issued one; null until the id is known.
   */
  readonly resumeUrl: string | null;
  /** Stops reading and cancels the generation on the gateway (DELETE); resolves when that was sent. */
  abort(): Promise<void>;
  /** Cuts the current connection as a network drop would; the client then resumes (for demos and tests). */
  interrupt(): void;
}
