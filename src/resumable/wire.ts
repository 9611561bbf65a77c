/** The worker ↔ stream object protocol: internal paths and headers (never reachable from outside). */
export const STREAM_OBJECT = {
  origin: "https://stream.internal",
  start: "/start",
  read: "/read",
  cancel: "/cancel",
  status: "/status",
  /** Who created the stream (a principal id, never a credential); checked on every later call. */
  ownerHeader: "x-gateway-owner",
} as const;

/** EventSource waits this long before reconnecting after the server closes a resume response. */
export const RETRY_HINT_MS = 1000;
