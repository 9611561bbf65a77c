/**
 * Wire constants the browser client speaks. The client is shipped to browsers as one file and must
 * not import from the gateway's `src/` folders, so it keeps its own copy of the few names it needs.
 */

/** Headers the client reads from or sends to the gateway (lower case, as `Headers` normalises them). */
export const CLIENT_HEADER = {
  streamId: "x-stream-id",
  resumeToken: "x-resume-token",
  lastEventId: "last-event-id",
  accept: "accept",
  contentType: "content-type",
  contentLength: "content-length",
} as const;

/** Paths and query parameters of the gateway's stream endpoints. */
export const STREAM_ROUTE = {
  /** `${origin}/v1/streams/{id}`: GET resumes, DELETE cancels. */
  prefix: "/v1/streams/",
  tokenParam: "token",
} as const;

/** The gateway's WebSocket (`GET /v1/ws`, docs/websocket.md) and the query parameter of its browser token. */
export const SOCKET_ROUTE = {
  path: "/v1/ws",
  tokenParam: "token",
} as const;

/** The socket messages the client sends (a copy of the gateway's `CLIENT_MESSAGE`). */
export const SOCKET_CLIENT_MESSAGE = {
  chatCreate: "chat.create",
  streamResume: "stream.resume",
} as const;

/** The socket messages the client reads (a copy of the gateway's `SERVER_MESSAGE`). */
export const SOCKET_SERVER_MESSAGE = {
  streamStarted: "stream.started",
  event: "event",
  streamDone: "stream.done",
  streamError: "stream.error",
  streamResumed: "stream.resumed",
  error: "error",
} as const;

/** Error codes after which resuming cannot help: the gateway does not have (or give) the stream. */
export const GONE_CODE = {
  streamNotFound: "stream_not_found",
  invalidCursor: "invalid_cursor",
} as const;

/** Media types the client sends and expects. */
export const MEDIA_TYPE = {
  eventStream: "text/event-stream",
  json: "application/json",
} as const;

/** The data payload that ends an OpenAI stream: the only proof that an answer is complete. */
export const DONE_SENTINEL = "[DONE]";

/**
 * The word that opens the gateway's last SSE comment, `: timings {...}`: its own measurements of the
 * stream (gateway and upstream TTFT, overhead, hold-back), written after `[DONE]`.
 */
export const TIMING_COMMENT_NAME = "timings";

/** The finish reason the gateway's guardrail (and OpenAI's moderation) use for a filtered answer. */
export const CONTENT_FILTER_REASON = "content_filter";

/** Why the client gave up on a stream without a complete answer. */
export const INTERRUPT_REASON = {
  /** Every resume attempt failed (network errors or 5xx) until the retry budget ran out. */
  retriesExhausted: "retries_exhausted",
  /** The gateway no longer knows the stream (expired or never existed): 404 on resume. */
  notFound: "not_found",
  /** The gateway refused the resume cursor (400): the client and gateway disagree on event ids. */
  badCursor: "bad_cursor",
  /** The response carried no `x-stream-id`, so there is nothing to resume. */
  noStreamId: "no_stream_id",
  /** A resumed connection skipped events: continuing would silently drop text. */
  gap: "gap",
} as const;

/** One of the `INTERRUPT_REASON` values. */
export type InterruptReason = (typeof INTERRUPT_REASON)[keyof typeof INTERRUPT_REASON];

/** Defaults for `streamChat` options. */
export const CLIENT_DEFAULTS = {
  /** Consecutive resume attempts without progress; 5 with the backoff below spans about 8 s. */
  retries: 5,
  /** First backoff step: long enough not to hammer a gateway that is restarting, short for a blip. */
  backoffMs: 250,
  /** Cap per wait, so a long outage is probed every few seconds rather than ever more rarely. */
  maxBackoffMs: 8_000,
  /**
   * How long `abort()` keeps an in-flight POST open to learn the stream id so it can send DELETE;
   * without the id the generation would run on (and be paid for) with nobody reading it.
   */
  abortHeadersWaitMs: 10_000,
  /**
   * How long the client keeps reading after `[DONE]`, for the timings comment and the end of the body.
   * The gateway writes the comment right behind the sentinel and then closes, so both come at once;
   * a server that holds the connection open must not hold back the answer for more than a moment.
   */
  trailerWaitMs: 500,
} as const;
