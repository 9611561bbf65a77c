/** The worker ↔ stream object protocol: internal paths and headers (never reachable from outside). */
export const STREAM_OBJECT = {
  origin: "https://stream.internal",
  start: "/start",
  read: "/read",
  cancel: "/cancel",
  status: "/status",
  /** Who created the stream (a principal id, never a credential); checked on every later call. */
  ownerHeader: "x-gateway-owner",
  /** Which of the object's streams a read, cancel or status call is about. */
  streamHeader: "x-gateway-stream",
} as const;

/** EventSource waits this long before reconnecting after the server closes a resume response. */
export const RETRY_HINT_MS = 1000;

/** The worker ↔ chat object protocol: which stream a `/v1/ui/chat` chat is streaming now. */
export const CHAT_OBJECT = {
  origin: "https://chat.internal",
  /** Takes the chat for its caller (first use) or checks that it is theirs. */
  claim: "/claim",
  /** Records the chat's newest stream (`?stream=`). */
  point: "/point",
  /** The chat's newest stream id, or 204 when it has none. */
  current: "/current",
  /** The caller (a principal id, never a credential); a chat answers only the principal that started it. */
  ownerHeader: "x-gateway-owner",
  /** What the object answers when the chat belongs to another principal (the worker turns it into its error). */
  foreignStatus: 404,
} as const;
