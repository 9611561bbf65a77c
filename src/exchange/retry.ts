import { GatewayError } from "../errors.ts";
import { ERROR_CODE } from "../protocol.ts";
import { UpstreamHttpError } from "../upstream/call.ts";
import { retryAfterMs } from "./backoff.ts";

/**
 * What a failed attempt calls for: `retry` the same target (after a backoff), move to the `next`
 * target at once, or `return` the error to the client (retrying cannot help, or must not happen).
 */
export type FailureAction = "retry" | "next" | "return";

/** One attempt that did not produce an answer, as the attempt loop and the logs see it. */
export interface AttemptFailure {
  readonly action: FailureAction;
  /** The error the client gets if nothing else answers. */
  readonly error: GatewayError;
  /** The upstream's `retry-after`, in ms, when it gave one. */
  readonly retryAfterMs: number | undefined;
}

/** Statuses worth another try on the same target (rate limits, overload, transient server errors). */
const RETRYABLE_STATUS = new Set([408, 429, 500, 502, 503, 504, 529]);

/**
 * A request too long for the model: another model (a larger context) may take it, the same one never
 * will. Each provider says it its own way: OpenAI's code, Anthropic's and Google's messages.
 */
const CONTEXT_LENGTH =
  /context[_ ]length|maximum context|prompt is too long|too many (input )?tokens|input token count|exceeds the maximum number of tokens/i;

/** Classifies an error thrown while opening an attempt (connect failure, timeout, HTTP status). */
export function classifyError(err: unknown): AttemptFailure {
  if (!(err instanceof GatewayError)) {
    const error = new GatewayError(502, ERROR_CODE.upstreamError, "the upstream request failed");
    return { action: "retry", error, retryAfterMs: undefined };
  }
  const retryAfter = retryAfterMs(err.headers["retry-after"]);
  // A target that sent no headers in time is not retried: that would only multiply the wait.
  if (err.code === ERROR_CODE.upstreamTimeout)
    return { action: "next", error: err, retryAfterMs: retryAfter };
  if (err.code === ERROR_CODE.upstreamUnreachable)
    return { action: "retry", error: err, retryAfterMs: retryAfter };
  if (err instanceof UpstreamHttpError) {
    if (RETRYABLE_STATUS.has(err.status)) return { action: "retry", error: err, retryAfterMs: retryAfter };
    const contextLength =
      err.upstreamCode === "context_length_exceeded" ||
      (err.status === 400 && CONTEXT_LENGTH.test(err.message));
    if (contextLength) return { action: "next", error: err, retryAfterMs: retryAfter };
  }
  // 400, 401, 403, 404, 413, 422 and the gateway's own refusals (a missing key): the same request
  // fails the same way anywhere; a content-policy refusal is an answer, never routed around.
  return { action: "return", error: err, retryAfterMs: retryAfter };
}

/** A stream that failed before its first content token (an error event, a reset, an early end). */
export function streamFailure(provider: string, why: string): AttemptFailure {
  const error = new GatewayError(
    502,
    ERROR_CODE.upstreamError,
    `provider "${provider}" failed before its first token: ${why}`,
  );
  return { action: "retry", error, retryAfterMs: undefined };
}
