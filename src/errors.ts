import { ERROR_CODE, type ErrorCode, type ErrorShape } from "./protocol.ts";

/**
 * The one error type thrown at the HTTP edge. `status` is the HTTP status, `code` the wire code;
 * the message must never contain a secret or a raw upstream body.
 */
export class GatewayError extends Error {
  readonly status: number;
  readonly code: ErrorCode;
  /** Extra response headers, e.g. `retry-after` on a 429. */
  readonly headers: Record<string, string>;

  constructor(status: number, code: ErrorCode, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = "GatewayError";
    this.status = status;
    this.code = code;
    this.headers = headers;
  }
}

/** OpenAI's `error.type` values, chosen by HTTP status (the SDK maps the status to its exception class). */
function openAiType(status: number): string {
  if (status === 401) return "authentication_error";
  if (status === 403) return "permission_error";
  if (status === 404) return "not_found_error";
  if (status === 429) return "rate_limit_error";
  if (status >= 500) return "server_error";
  return "invalid_request_error";
}

/** Anthropic's documented `error.type` values, chosen by HTTP status. */
function anthropicType(status: number): string {
  if (status === 401) return "authentication_error";
  if (status === 403) return "permission_error";
  if (status === 404) return "not_found_error";
  if (status === 413) return "request_too_large";
  if (status === 429) return "rate_limit_error";
  if (status === 529) return "overloaded_error";
  if (status >= 500) return "api_error";
  return "invalid_request_error";
}

/** Google's canonical status names (google.rpc.Code), chosen by HTTP status. */
function geminiStatus(status: number): string {
  if (status === 400 || status === 405 || status === 413 || status === 415) return "INVALID_ARGUMENT";
  if (status === 401) return "UNAUTHENTICATED";
  if (status === 403) return "PERMISSION_DENIED";
  if (status === 404) return "NOT_FOUND";
  if (status === 429) return "RESOURCE_EXHAUSTED";
  if (status === 499) return "CANCELLED";
  if (status === 504) return "DEADLINE_EXCEEDED";
  if (status === 502 || status === 503) return "UNAVAILABLE";
  return status >= 500 ? "INTERNAL" : "FAILED_PRECONDITION";
}

/** The JSON error body for `shape`, exactly as that provider's SDK expects to parse it. */
export function errorBody(shape: ErrorShape, status: number, code: ErrorCode, message: string): unknown {
  switch (shape) {
    case "openai":
      return { error: { message, type: openAiType(status), param: null, code } };
    case "anthropic":
      return { type: "error", error: { type: anthropicType(status), message } };
    case "gemini":
      return { error: { code: status, message, status: geminiStatus(status) } };
  }
}

/** Turns any thrown value into an HTTP response in the caller's error shape; unknown errors never leak details. */
export function errorResponse(
  err: unknown,
  shape: ErrorShape,
  extraHeaders: Record<string, string> = {},
): Response {
  const e =
    err instanceof GatewayError ? err : new GatewayError(500, ERROR_CODE.internal, "internal gateway error");
  return new Response(JSON.stringify(errorBody(shape, e.status, e.code, e.message)), {
    status: e.status,
    headers: { "content-type": "application/json", ...e.headers, ...extraHeaders },
  });
}

/** A configuration mistake found when the gateway reads its settings; the message names the variable. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
}
