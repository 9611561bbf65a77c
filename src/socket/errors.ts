import { errorBody, GatewayError } from "../errors.ts";
import { ERROR_CODE } from "../protocol.ts";

/** The `error` object of a socket message: OpenAI's error fields, plus the HTTP status the same request would have had. */
export interface SocketErrorObject {
  readonly message: string;
  readonly type: string;
  readonly code: string;
  readonly status?: number;
}

/** A socket-level problem (no HTTP status of its own). */
export function socketError(code: string, message: string): SocketErrorObject {
  return { message, type: "invalid_request_error", code };
}

/** What a route handler threw, as a socket error: the HTTP answer's fields; anything unexpected is not echoed. */
export function thrownError(err: unknown): SocketErrorObject {
  const e =
    err instanceof GatewayError ? err : new GatewayError(500, ERROR_CODE.internal, "internal gateway error");
  if (!(err instanceof GatewayError))
    console.error(JSON.stringify({ msg: "socket error", error: String(err) }));
  const body = errorBody("openai", e.status, e.code, e.message) as { error: { type: string } };
  return { message: e.message, type: body.error.type, code: e.code, status: e.status };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A route's non-2xx answer (an OpenAI error body, the gateway's own) as a socket error. */
export async function responseError(res: Response): Promise<SocketErrorObject> {
  let parsed: unknown;
  try {
    parsed = await res.json();
  } catch {
    parsed = undefined;
  }
  const error = isRecord(parsed) && isRecord(parsed.error) ? parsed.error : {};
  return {
    message: typeof error.message === "string" ? error.message : `the request failed with HTTP ${res.status}`,
    type: typeof error.type === "string" ? error.type : "server_error",
    code: typeof error.code === "string" ? error.code : ERROR_CODE.upstreamError,
    status: res.status,
  };
}

/** The `error` of an in-band error event's JSON (`{"error":{...}}`), as sent on SSE. */
export function inBandError(json: string): SocketErrorObject {
  const parsed: unknown = JSON.parse(json);
  const error = isRecord(parsed) && isRecord(parsed.error) ? parsed.error : {};
  return {
    message: typeof error.message === "string" ? error.message : "the stream ended with an error",
    type: typeof error.type === "string" ? error.type : "server_error",
    code: typeof error.code === "string" ? error.code : ERROR_CODE.internal,
  };
}
