import { HEADER } from "../protocol.ts";
import { isObject } from "../upstream/json.ts";

/**
 * Whether an answer to this request may be continued mid-stream from another attempt. Never when
 * the answer is not one text the seam can check: several choices (`n` > 1), log probabilities (a
 * continuation's would not match the text's), or structured output (`response_format` json_object
 * or json_schema: a continued JSON text is not verifiably one document); nor when the client says
 * `x-continuation: off`. Tool calls and reasoning are judged on the stream itself.
 */
/** Whether the client asked for deterministic sampling, so that a replay can reproduce the text. */
export function replayable(body: Readonly<Record<string, unknown>>): boolean {
  return body.temperature === 0 || typeof body.seed === "number";
}

export function continuable(body: Readonly<Record<string, unknown>>, headers: Headers): boolean {
  if (headers.get(HEADER.continuation)?.trim().toLowerCase() === "off") return false;
  if (typeof body.n === "number" && body.n > 1) return false;
  if (body.logprobs === true || body.top_logprobs !== undefined) return false;
  const format = body.response_format;
  return !(isObject(format) && (format.type === "json_object" || format.type === "json_schema"));
}
