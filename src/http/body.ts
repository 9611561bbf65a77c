import { GatewayError } from "../errors.ts";
import { ERROR_CODE } from "../protocol.ts";

/** A parsed JSON request body plus its exact text, so passthrough forwards what the client sent. */
export interface JsonBody {
  readonly text: string;
  readonly json: Record<string, unknown>;
}

/**
 * Reads a JSON object body with a size limit. Counts bytes as they arrive so a missing or lying
 * `content-length` cannot make the gateway buffer more than `maxBytes`.
 */
export async function readJsonBody(request: Request, maxBytes: number): Promise<JsonBody> {
  const type = request.headers.get("content-type") ?? "";
  if (!/^application\/(?:[\w.+-]+\+)?json\b/i.test(type.trim())) {
    throw new GatewayError(
      415,
      ERROR_CODE.unsupportedMediaType,
      `content-type must be application/json${type ? `, got "${type.slice(0, 60)}"` : ""}`,
    );
  }
  const length = request.headers.get("content-length");
  const declared = Number(length ?? "0");
  if (declared > maxBytes) throw tooLarge(maxBytes);
  // The runtime frames a body with a content-length to exactly that many bytes, so it can be read in
  // one call; only a chunked body (no length) is counted as it arrives.
  let bytes: Uint8Array;
  try {
    bytes =
      length !== null && Number.isSafeInteger(declared)
        ? new Uint8Array(await request.arrayBuffer())
        : await readLimited(request.body, maxBytes);
  } catch (err) {
    if (err instanceof GatewayError) throw err;
    // The client's connection failed before its body arrived (a cut upload, a lying content-length):
    // the client's fault, answered in its format, not a gateway failure.
    console.log(JSON.stringify({ msg: "client error", status: 400, error: "request body cut off" }));
    throw new GatewayError(
      400,
      ERROR_CODE.invalidRequest,
      "the request body did not arrive completely (the connection ended before its content-length)",
    );
  }
  if (bytes.byteLength === 0) throw new GatewayError(400, ERROR_CODE.invalidJson, "request body is empty");
  let text: string;
  let json: unknown;
  try {
    text = UTF8.decode(bytes);
    json = JSON.parse(text);
  } catch {
    throw new GatewayError(400, ERROR_CODE.invalidJson, "request body is not valid JSON");
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new GatewayError(400, ERROR_CODE.invalidRequest, "request body must be a JSON object");
  }
  return { text, json: json as Record<string, unknown> };
}

/** Refuses bytes that are not UTF-8; one per isolate (a call without `stream` leaves no state behind). */
const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

function tooLarge(maxBytes: number): GatewayError {
  return new GatewayError(
    413,
    ERROR_CODE.payloadTooLarge,
    `request body exceeds the limit of ${maxBytes} bytes`,
  );
}

async function readLimited(body: ReadableStream<Uint8Array> | null, maxBytes: number): Promise<Uint8Array> {
  if (body === null) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}

/** Reads an optional boolean field, answering 400 naming the field when it has another type. */
export function optionalBoolean(json: Record<string, unknown>, field: string): boolean | undefined {
  const v = json[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "boolean")
    throw new GatewayError(400, ERROR_CODE.invalidRequest, `"${field}" must be a boolean`);
  return v;
}

/** Reads a required non-empty string field, answering 400 naming the field otherwise. */
export function requiredString(json: Record<string, unknown>, field: string, maxLength = 256): string {
  const v = json[field];
  if (v === undefined || v === null)
    throw new GatewayError(400, ERROR_CODE.invalidRequest, `"${field}" is required`);
  if (typeof v !== "string" || v.length === 0) {
    throw new GatewayError(400, ERROR_CODE.invalidRequest, `"${field}" must be a non-empty string`);
  }
  if (v.length > maxLength) {
    throw new GatewayError(
      400,
      ERROR_CODE.invalidRequest,
      `"${field}" is longer than ${maxLength} characters`,
    );
  }
  return v;
}
