/**
 * Wire constants of the gateway's own WebSocket (`GET /v1/ws`, docs/websocket.md): message types
 * each way and the error codes only the socket uses. Every name a client can observe lives here.
 */

/** Messages a client sends. */
export const CLIENT_MESSAGE = {
  chatCreate: "chat.create",
  streamResume: "stream.resume",
  streamCancel: "stream.cancel",
  ping: "ping",
} as const;
export type ClientMessageType = (typeof CLIENT_MESSAGE)[keyof typeof CLIENT_MESSAGE];

/** Messages the gateway sends. */
export const SERVER_MESSAGE = {
  streamStarted: "stream.started",
  event: "event",
  streamDone: "stream.done",
  streamError: "stream.error",
  streamResumed: "stream.resumed",
  streamCancelled: "stream.cancelled",
  pong: "pong",
  error: "error",
} as const;

/** Error codes of socket messages (the HTTP ones of `ERROR_CODE` are used as they are). */
export const SOCKET_ERROR = {
  /** Not JSON, not an object, an unknown `type`, a missing or malformed field. */
  invalidMessage: "invalid_message",
  /** A binary frame: the protocol is JSON text. */
  binaryMessage: "binary_message",
  /** More than `WS_MAX_MESSAGE_BYTES` in one message. */
  messageTooLarge: "message_too_large",
  /** Over the per-socket rate of messages other than `chat.create`. */
  messageRate: "message_rate_exceeded",
  /** The socket already carries as many streams as it may. */
  tooManyStreams: "too_many_streams",
  /** The stream is already followed on this socket. */
  alreadyFollowing: "stream_already_followed",
  /** The client read too slowly: the send buffer passed its bound, this stream stopped (resumable). */
  slowReader: "slow_reader",
  /** The stream ended without `[DONE]` and without an error event of its own. */
  streamEnded: "stream_ended",
} as const;

/** Close codes (RFC 6455 §7.4.1). */
export const CLOSE_CODE = {
  normal: 1000,
  /** "An endpoint is terminating the connection because it has received a type of data it cannot accept." */
  unsupportedData: 1003,
  /** "The server encountered an unexpected condition": an upstream socket died mid-response. */
  internalError: 1011,
} as const;

/** The socket's path. */
export const SOCKET_PATH = "/v1/ws";
