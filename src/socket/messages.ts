import { isStreamId } from "../resumable/stream-id.ts";
import { CLIENT_MESSAGE, SOCKET_ERROR } from "./protocol.ts";

/** One message a client may send, parsed and checked. */
export type ClientMessage =
  | { readonly type: "chat.create"; readonly ref?: string; readonly body: Record<string, unknown> }
  | {
      readonly type: "stream.resume";
      readonly ref?: string;
      readonly stream: string;
      readonly after: number;
      /** A resume token (`x-resume-token` of the stream): acts as the stream's creator, as `?token=` does. */
      readonly token?: string;
    }
  | {
      readonly type: "stream.cancel";
      readonly ref?: string;
      readonly stream: string;
      readonly token?: string;
    }
  | { readonly type: "ping"; readonly ref?: string };

/** Why a message was refused: a code, a message naming the problem, and the `ref` when it had a usable one. */
export interface MessageProblem {
  readonly code: string;
  readonly message: string;
  readonly ref?: string;
  readonly stream?: string;
}

export type ParseResult =
  | { readonly ok: true; readonly message: ClientMessage }
  | { readonly ok: false; readonly problem: MessageProblem };

/** A `ref` is echoed back, so it must be an identifier, not free text that could carry anything. */
const REF = /^[A-Za-z0-9_.:-]{1,64}$/;
/** A type is named in an error only when it looks like one (never echo arbitrary client text). */
const TYPE_NAME = /^[a-z][a-z.]{0,31}$/;
/** Resume tokens are about 100 characters of base64url and dots. */
const TOKEN = /^[A-Za-z0-9_.-]{1,512}$/;
const KNOWN = Object.values(CLIENT_MESSAGE).join(", ");

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function fail(message: string, ref?: string, stream?: string): ParseResult {
  return {
    ok: false,
    problem: {
      code: SOCKET_ERROR.invalidMessage,
      message,
      ...(ref === undefined ? {} : { ref }),
      ...(stream === undefined ? {} : { stream }),
    },
  };
}

/**
 * UTF-8 length of `text` above `max`? Decided without encoding when the code-unit count settles it
 * (each UTF-16 unit is 1 to 3 UTF-8 bytes), so only borderline messages are measured byte by byte.
 */
export function exceedsBytes(text: string, max: number): boolean {
  if (text.length > max) return true;
  if (text.length * 3 <= max) return false;
  return new TextEncoder().encode(text).byteLength > max;
}

/** Parses one text frame into a message, or says what is wrong with it (naming the field, never echoing values). */
export function parseClientMessage(text: string): ParseResult {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return fail("message is not valid JSON");
  }
  if (!isRecord(json)) return fail("message must be a JSON object");
  const rawRef = json.ref;
  if (rawRef !== undefined && (typeof rawRef !== "string" || !REF.test(rawRef)))
    return fail("ref must be a string of 1-64 letters, digits, _ . : or -");
  const ref = rawRef;
  const type = json.type;
  if (typeof type !== "string") return fail(`type must be a string, one of ${KNOWN}`, ref);
  switch (type) {
    case CLIENT_MESSAGE.chatCreate: {
      if (!isRecord(json.body)) return fail("chat.create needs body: a Chat Completions request object", ref);
      return { ok: true, message: { type, body: json.body, ...(ref === undefined ? {} : { ref }) } };
    }
    case CLIENT_MESSAGE.streamResume:
    case CLIENT_MESSAGE.streamCancel: {
      const stream = json.stream;
      if (typeof stream !== "string" || !isStreamId(stream))
        return fail(`${type} needs stream: a stream id (22 characters of base64url)`, ref);
      const token = json.token;
      if (token !== undefined && (typeof token !== "string" || !TOKEN.test(token)))
        return fail(`${type}: token must be a resume token string`, ref, stream);
      const common = {
        stream,
        ...(ref === undefined ? {} : { ref }),
        ...(typeof token === "string" ? { token } : {}),
      };
      if (type === CLIENT_MESSAGE.streamCancel) return { ok: true, message: { type, ...common } };
      const after = json.after ?? 0;
      if (typeof after !== "number" || !Number.isSafeInteger(after) || after < 0)
        return fail("stream.resume: after must be an event number (a non-negative integer)", ref, stream);
      return { ok: true, message: { type, after, ...common } };
    }
    case CLIENT_MESSAGE.ping:
      return { ok: true, message: { type, ...(ref === undefined ? {} : { ref }) } };
    default:
      return fail(
        TYPE_NAME.test(type)
          ? `unknown message type "${type}"; expected one of ${KNOWN}`
          : `unknown message type; expected one of ${KNOWN}`,
        ref,
      );
  }
}
