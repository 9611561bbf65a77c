/** The browser client of the streaming gateway: no dependencies, one ESM file once bundled. */
export { backoffDelay } from "./backoff.ts";
export {
  GatewayStreamError,
  type ReceivedSoFar,
  StreamAbortedError,
  StreamInterruptedError,
} from "./errors.ts";
export { INTERRUPT_REASON, type InterruptReason } from "./protocol.ts";
export { parseTimingComment } from "./server-timings.ts";
export type { SocketFactory, SocketLike } from "./socket-connection.ts";
export { type SseMessage, SseReader, type SseReaderOptions } from "./sse-reader.ts";
export { streamChat } from "./stream-chat.ts";
export type {
  ChatDelta,
  ChatResult,
  ChatStream,
  ChatUsage,
  FetchLike,
  FirstTokenInfo,
  InterruptionInfo,
  ResumeInfo,
  ServerTimings,
  StreamChatOptions,
  ToolCall,
} from "./types.ts";
