/**
 * Wire constants of the gateway: header names, SSE event names, error codes and stream states.
 * Everything the client or a test can observe is named here once, never as a scattered literal.
 */

/** Response and request headers the gateway reads or sets. */
export const HEADER = {
  streamId: "x-stream-id",
  resumeToken: "x-resume-token",
  resumable: "x-resumable",
  lastEventId: "last-event-id",
  serverTiming: "server-timing",
  retryAfter: "retry-after",
  requestId: "x-request-id",
  gatewayError: "x-gateway-error",
  /** The target that answered (`<provider>/<model>`), after any retries and fallbacks. */
  gatewayTarget: "x-gateway-target",
  /** How many attempts it took, the answering one included. */
  gatewayAttempts: "x-gateway-attempts",
  /** A request header: `off` turns mid-stream continuation off for this request. */
  continuation: "x-continuation",
  /** The AI SDK's UI message stream marker: `useChat`'s default transport parses such a body as chunks. */
  uiMessageStream: "x-vercel-ai-ui-message-stream",
} as const;

/**
 * The AI SDK UI message stream protocol version `/v1/ui/chat` speaks (`ai` 7's
 * UI_MESSAGE_STREAM_HEADERS send `v1`): SSE events whose data is one JSON chunk, then `data: [DONE]`.
 */
export const UI_MESSAGE_STREAM_VERSION = "v1";

/** Headers every streaming (SSE) response carries; `no-transform` keeps proxies from compressing or buffering. */
export const SSE_RESPONSE_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache, no-transform",
  "x-accel-buffering": "no",
} as const;

/** Media type used to recognise an upstream streaming response. */
export const EVENT_STREAM_TYPE = "text/event-stream";

/** Final state of a stream, as recorded by the gateway and reported in analytics. */
export const STREAM_OUTCOME = {
  complete: "complete",
  interrupted: "interrupted",
  blocked: "blocked",
  cancelled: "cancelled",
  lost: "lost",
} as const;
export type StreamOutcome = (typeof STREAM_OUTCOME)[keyof typeof STREAM_OUTCOME];

/** Error codes the gateway puts on the wire (inside each provider's own error shape). */
export const ERROR_CODE = {
  invalidJson: "invalid_json",
  unsupportedMediaType: "unsupported_media_type",
  payloadTooLarge: "payload_too_large",
  invalidRequest: "invalid_request",
  unknownProvider: "unknown_provider",
  modelNotFound: "model_not_found",
  providerNotConfigured: "provider_not_configured",
  unsupportedParameter: "unsupported_parameter",
  methodNotAllowed: "method_not_allowed",
  /** A WebSocket route asked without `Upgrade: websocket`. */
  upgradeRequired: "upgrade_required",
  notFound: "not_found",
  unauthorized: "unauthorized",
  forbidden: "forbidden",
  rateLimited: "rate_limited",
  upstreamError: "upstream_error",
  upstreamUnreachable: "upstream_unreachable",
  upstreamTimeout: "upstream_timeout",
  upstreamInterrupted: "upstream_interrupted",
  upstreamStalled: "upstream_stalled",
  upstreamEventTooLarge: "upstream_event_too_large",
  streamNotFound: "stream_not_found",
  invalidCursor: "invalid_cursor",
  streamLimitExceeded: "stream_limit_exceeded",
  streamCancelled: "stream_cancelled",
  streamLost: "stream_lost",
  guardrailBlocked: "guardrail_blocked",
  internal: "internal_error",
} as const;
export type ErrorCode = (typeof ERROR_CODE)[keyof typeof ERROR_CODE];

/** The error body shapes the gateway can answer in: each client gets errors in its own SDK's format. */
export type ErrorShape = "openai" | "anthropic" | "gemini";
