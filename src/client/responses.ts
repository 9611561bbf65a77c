import { parseData } from "./chunk.ts";
import { GatewayStreamError } from "./errors.ts";
import { CLIENT_HEADER, MEDIA_TYPE } from "./protocol.ts";

/** True when the response is JSON, which a streaming request only gets as an error. */
export function isJsonResponse(response: Response): boolean {
  return (response.headers.get(CLIENT_HEADER.contentType) ?? "").includes(MEDIA_TYPE.json);
}

/**
 * The error for a failed chat request, from the gateway's `{ error }` body when it has one; the
 * raw body is never copied into the message (it may be a proxy's page, or echo credentials).
 */
export async function httpError(response: Response): Promise<GatewayStreamError> {
  let text = "";
  try {
    text = await response.text();
  } catch {
    // An unreadable body still leaves the status to report.
  }
  const parsed = parseData(text);
  const error =
    parsed.kind === "error"
      ? parsed
      : { message: `The gateway answered HTTP ${response.status} without a stream`, code: null, type: null };
  return new GatewayStreamError(error, response.status, "");
}

/** Releases a response body nobody will read, so the connection can be reused. */
export function discardBody(response: Response): void {
  response.body?.cancel().catch(() => undefined);
}
