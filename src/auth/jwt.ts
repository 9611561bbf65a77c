// HS256 JWTs for browser tokens: an application's backend signs them with GATEWAY_JWT_SECRET, the
// gateway verifies them. Only node built-ins-free Web APIs and relative `.ts` imports, so that
// `scripts/token.ts` can import this file under `node --experimental-strip-types`.
import { base64UrlDecode, base64UrlEncode, decodeUtf8, hmacKey, utf8 } from "./bytes.ts";

/** The only accepted algorithm: a shared-secret HMAC. `none` and public-key algorithms are refused. */
export const JWT_ALG = "HS256";
/** Clocks of the minting backend and the edge disagree a little; 30 s covers NTP-synced hosts. */
export const CLOCK_SKEW_SECONDS = 30;
/** RFC 7518 §3.2: an HS256 key must be at least 256 bits; 32 characters is the floor we enforce. */
export const MIN_JWT_SECRET_LENGTH = 32;
/** Real tokens are a few hundred bytes; anything this long is refused before any crypto runs. */
export const MAX_JWT_LENGTH = 8192;
/** `sub` becomes a principal id (hashed) and may be shown in logs; an id, not a document. */
export const MAX_SUB_LENGTH = 256;
/** Model patterns are model ids (≤ 256 characters, as the request validator allows) plus `*`. */
const MAX_MODEL_PATTERN_LENGTH = 257;
const MAX_MODELS = 64;
/** A rate class names a rate-limit binding (`RATE_LIMIT_<CLASS>`), so it is a short slug. */
const RATE_CLASS = /^[A-Za-z0-9_-]{1,32}$/;
/**
 * Three base64url parts: header, payload, signature. The signature may be empty so that an unsigned
 * `alg: none` token is refused as what it is (wrong algorithm), not as a shapeless string.
 */
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** The claims the gateway reads from a browser token. */
export interface GatewayClaims {
  /** The end user, as the application knows them; hashed into the principal id. */
  readonly sub: string;
  /** Expiry, seconds since the epoch. */
  readonly exp: number;
  readonly iat?: number;
  readonly nbf?: number;
  /** Allowed models: exact ids or prefixes ending in `*` (`demo/*`); absent means every model. */
  readonly models?: readonly string[];
  /** Rate class: selects the rate-limit binding `RATE_LIMIT_<RATE>`. */
  readonly rate?: string;
}

/** Why a token was refused; `message` says it in words fit for a 401 body (it never echoes the token). */
export type JwtFailure =
  | "malformed"
  | "wrong_alg"
  | "bad_signature"
  | "expired"
  | "not_yet_valid"
  | "missing_sub"
  | "invalid_claims";

/** The outcome of verifying a token. */
export type JwtResult =
  | { readonly ok: true; readonly claims: GatewayClaims }
  | { readonly ok: false; readonly reason: JwtFailure; readonly message: string };

/** What `signJwt` accepts: the gateway's claims plus anything else the application wants to carry. */
export type JwtPayload = GatewayClaims & Readonly<Record<string, unknown>>;

function fail(reason: JwtFailure, message: string): JwtResult {
  return { ok: false, reason, message };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Parses one base64url JSON part into an object; undefined if it is anything else. */
function jsonPart(part: string): Record<string, unknown> | undefined {
  const bytes = base64UrlDecode(part);
  const text = bytes === undefined ? undefined : decodeUtf8(bytes);
  if (text === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return isRecord(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Importing a key costs a little; the secret rarely changes within an isolate, so keep the last few. */
const keyCache = new Map<string, Promise<CryptoKey>>();
const KEY_CACHE_SIZE = 4;

/** The HMAC key for a secret, imported once per isolate. */
export function jwtKey(secret: string): Promise<CryptoKey> {
  let key = keyCache.get(secret);
  if (key === undefined) {
    if (keyCache.size >= KEY_CACHE_SIZE) keyCache.clear();
    key = hmacKey(secret);
    keyCache.set(secret, key);
  }
  return key;
}

/** True for a string shaped like a JWT (three base64url parts); says nothing about its validity. */
export function looksLikeJwt(token: string): boolean {
  return token.length <= MAX_JWT_LENGTH && JWT_SHAPE.test(token);
}

function isTime(v: unknown): v is number {
  return typeof v === "number" && Number.isFinite(v);
}

/** Checks the claims after the signature: only a genuine token gets its claims judged. */
function claimsOf(payload: Record<string, unknown>, nowSeconds: number): JwtResult {
  const { exp, nbf, iat, sub, models, rate } = payload;
  if (exp === undefined) return fail("invalid_claims", "browser token has no expiry (exp is required)");
  if (!isTime(exp)) return fail("invalid_claims", "browser token exp must be a number (seconds since epoch)");
  if (exp + CLOCK_SKEW_SECONDS <= nowSeconds) {
    const when = exp * 1000 <= 8.64e15 ? ` at ${new Date(exp * 1000).toISOString()}` : "";
    return fail("expired", `browser token expired${when}; ask the application for a new one`);
  }
  if (nbf !== undefined && (!isTime(nbf) || nbf - CLOCK_SKEW_SECONDS > nowSeconds))
    return fail("not_yet_valid", "browser token is not valid yet (nbf is in the future)");
  if (iat !== undefined && !isTime(iat)) return fail("invalid_claims", "browser token iat must be a number");
  if (typeof sub !== "string" || sub === "")
    return fail("missing_sub", "browser token has no subject (sub must be a non-empty string)");
  if (sub.length > MAX_SUB_LENGTH)
    return fail("invalid_claims", `browser token sub is longer than ${MAX_SUB_LENGTH} characters`);
  if (
    models !== undefined &&
    (!Array.isArray(models) ||
      models.length > MAX_MODELS ||
      !models.every((m) => typeof m === "string" && m !== "" && m.length <= MAX_MODEL_PATTERN_LENGTH))
  ) {
    return fail(
      "invalid_claims",
      `browser token models must be an array of at most ${MAX_MODELS} model ids or prefixes like "demo/*"`,
    );
  }
  if (rate !== undefined && (typeof rate !== "string" || !RATE_CLASS.test(rate)))
    return fail("invalid_claims", "browser token rate must be a short name (letters, digits, _ or -)");
  return {
    ok: true,
    claims: {
      sub,
      exp,
      ...(isTime(iat) ? { iat } : {}),
      ...(isTime(nbf) ? { nbf } : {}),
      ...(Array.isArray(models) ? { models: models.filter((m) => typeof m === "string") } : {}),
      ...(typeof rate === "string" ? { rate } : {}),
    },
  };
}

/**
 * Verifies an HS256 JWT: shape, header (`alg` HS256, no `crit`), signature (constant time, by
 * `crypto.subtle.verify`), then `exp` (required), `nbf`, `sub` (required), `models`, `rate`.
 * Never throws: every failure is a tagged result with a message that does not echo the token.
 */
export async function verifyJwt(
  token: string,
  secret: string,
  nowMs: number = Date.now(),
): Promise<JwtResult> {
  if (!looksLikeJwt(token))
    return fail("malformed", "browser token is malformed (expected a JWT: three base64url parts)");
  const [h = "", p = "", s = ""] = token.split(".");
  const header = jsonPart(h);
  if (header === undefined) return fail("malformed", "browser token header is not base64url JSON");
  // The algorithm comes from the token itself, so it is checked against the one we allow, never used
  // to pick a verifier (the classic `alg: none` / HS-vs-RS confusion attacks).
  if (header.alg !== JWT_ALG)
    return fail(
      "wrong_alg",
      `browser token must be signed with ${JWT_ALG}; other algorithms and "none" are refused`,
    );
  // RFC 7515 §4.1.11: a critical extension we do not understand makes the token invalid.
  if (header.crit !== undefined) return fail("malformed", "browser token uses critical header extensions");
  const signature = base64UrlDecode(s);
  if (signature === undefined) return fail("malformed", "browser token signature is not base64url");
  let valid: boolean;
  try {
    valid = await crypto.subtle.verify("HMAC", await jwtKey(secret), signature, utf8(`${h}.${p}`));
  } catch {
    valid = false;
  }
  if (!valid)
    return fail(
      "bad_signature",
      "browser token signature is invalid (tampered, or signed with another secret)",
    );
  const payload = jsonPart(p);
  if (payload === undefined) return fail("malformed", "browser token payload is not base64url JSON");
  return claimsOf(payload, nowMs / 1000);
}

/** Signs a payload as an HS256 JWT (for backends, `npm run token` and tests). Throws on a short secret. */
export async function signJwt(payload: JwtPayload, secret: string): Promise<string> {
  if (secret.length < MIN_JWT_SECRET_LENGTH)
    throw new Error(`the JWT secret must be at least ${MIN_JWT_SECRET_LENGTH} characters`);
  const head = base64UrlEncode(utf8(JSON.stringify({ alg: JWT_ALG, typ: "JWT" })));
  const body = base64UrlEncode(utf8(JSON.stringify(payload)));
  const sig = await crypto.subtle.sign("HMAC", await jwtKey(secret), utf8(`${head}.${body}`));
  return `${head}.${body}.${base64UrlEncode(new Uint8Array(sig))}`;
}
