import { ConfigError } from "../errors.ts";
import { base64UrlDecode, base64UrlEncode, decodeUtf8, utf8 } from "./bytes.ts";
import { jwtKey, MIN_JWT_SECRET_LENGTH } from "./jwt.ts";
import type { AuthEnv } from "./principal.ts";

/**
 * A resume token lets a GET (EventSource cannot set headers) resume, check or cancel one stream as
 * the principal that created it. Format: `<base64url(principal id)>.<exp>.<base64url(HMAC-SHA256)>`,
 * the MAC over `resume.v1\n<stream id>\n<principal id>\n<exp>`. The prefix and the newlines keep
 * it from ever being a valid JWT signing input, so sharing GATEWAY_JWT_SECRET is safe.
 */
const MAC_CONTEXT = "resume.v1";

/** One hour: as long as a finished stream is kept by default (`STREAM_TTL_SECONDS`). */
export const RESUME_TOKEN_TTL_SECONDS = 3600;
/** The query parameter that carries it (what the browser client sets). */
export const RESUME_TOKEN_PARAM = "token";
/** Principal ids are short printable ASCII (`key:<name>`, `jwt:<hex>`, `anonymous`). */
const PRINCIPAL_ID = /^[\x21-\x7e]{1,128}$/;
const TOKEN = /^([A-Za-z0-9_-]{1,200})\.(\d{1,12})\.([A-Za-z0-9_-]{43})$/;

/** Why a resume token was refused; `message` is fit for a 401 body. */
export type ResumeTokenResult =
  | { readonly ok: true; readonly principalId: string }
  | { readonly ok: false; readonly reason: "malformed" | "invalid" | "expired"; readonly message: string };

function macInput(streamId: string, principalId: string, exp: number): Uint8Array {
  return utf8(`${MAC_CONTEXT}\n${streamId}\n${principalId}\n${exp}`);
}

/**
 * The resume-token secret: `RESUME_TOKEN_SECRET`, else `GATEWAY_JWT_SECRET`; undefined when neither
 * is set (no tokens are issued, resume then needs the caller's credentials in headers).
 */
export function resumeSecretOf(env: AuthEnv): string | undefined {
  const dedicated = env.RESUME_TOKEN_SECRET;
  if (dedicated !== undefined && dedicated !== "") {
    if (dedicated.length < MIN_JWT_SECRET_LENGTH)
      throw new ConfigError(`RESUME_TOKEN_SECRET must be at least ${MIN_JWT_SECRET_LENGTH} characters`);
    return dedicated;
  }
  const shared = env.GATEWAY_JWT_SECRET;
  return shared !== undefined && shared.length >= MIN_JWT_SECRET_LENGTH ? shared : undefined;
}

/** Mints a token that lets `principalId` read, check and cancel `streamId` until it expires. */
export async function mintResumeToken(
  streamId: string,
  principalId: string,
  secret: string,
  ttlSeconds: number = RESUME_TOKEN_TTL_SECONDS,
  nowMs: number = Date.now(),
): Promise<string> {
  if (!PRINCIPAL_ID.test(principalId)) throw new Error("principal id must be short printable ASCII");
  const exp = Math.floor(nowMs / 1000) + Math.max(1, Math.floor(ttlSeconds));
  const mac = await crypto.subtle.sign("HMAC", await jwtKey(secret), macInput(streamId, principalId, exp));
  return `${base64UrlEncode(utf8(principalId))}.${exp}.${base64UrlEncode(new Uint8Array(mac))}`;
}

/**
 * Checks a resume token for `streamId`: the MAC first (constant time, via `crypto.subtle.verify`),
 * then the expiry, so only a genuine token is ever called "expired". Never throws.
 */
export async function verifyResumeToken(
  token: string,
  streamId: string,
  secret: string,
  nowMs: number = Date.now(),
): Promise<ResumeTokenResult> {
  const m = TOKEN.exec(token);
  const idBytes = m?.[1] === undefined ? undefined : base64UrlDecode(m[1]);
  const principalId = idBytes === undefined ? undefined : decodeUtf8(idBytes);
  const mac = m?.[3] === undefined ? undefined : base64UrlDecode(m[3]);
  const exp = Number(m?.[2]);
  if (
    principalId === undefined ||
    !PRINCIPAL_ID.test(principalId) ||
    mac === undefined ||
    !Number.isSafeInteger(exp)
  )
    return { ok: false, reason: "malformed", message: "resume token is malformed" };
  let valid: boolean;
  try {
    valid = await crypto.subtle.verify(
      "HMAC",
      await jwtKey(secret),
      mac,
      macInput(streamId, principalId, exp),
    );
  } catch {
    valid = false;
  }
  if (!valid) {
    return {
      ok: false,
      reason: "invalid",
      message:
        "resume token is not valid for this stream (another stream's, tampered, or from another secret)",
    };
  }
  if (exp <= nowMs / 1000)
    return {
      ok: false,
      reason: "expired",
      message: "resume token expired; resume with your credentials instead",
    };
  return { ok: true, principalId };
}
