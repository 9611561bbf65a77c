// Byte helpers for the auth code: Web APIs only (crypto.subtle, btoa/atob, TextEncoder), so they run
// unchanged in workerd, in Node tests and in `scripts/token.ts` under `node --experimental-strip-types`.

const encoder = new TextEncoder();
/** `fatal`: a token whose JSON part is not valid UTF-8 is malformed, not silently repaired. */
const strictDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/** Base64url alphabet only (RFC 4648 §5), no padding: what JWTs and our tokens use. */
const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** UTF-8 bytes of a string. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Base64url without padding of some bytes. */
export function base64UrlEncode(bytes: Uint8Array): string {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** Decodes unpadded base64url; undefined for anything else (never throws: the input is untrusted). */
export function base64UrlDecode(text: string): Uint8Array | undefined {
  // A length of 1 mod 4 cannot come from any byte string; atob would reject it anyway.
  if (!BASE64URL.test(text) || text.length % 4 === 1) return undefined;
  try {
    const bin = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  } catch {
    return undefined;
  }
}

/** Decodes bytes as strict UTF-8; undefined if they are not valid UTF-8. */
export function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return strictDecoder.decode(bytes);
  } catch {
    return undefined;
  }
}

/** Lowercase hex of some bytes. */
export function toHex(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
}

/** Bytes of an even-length hex string; undefined for anything else. */
export function fromHex(hex: string): Uint8Array | undefined {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) return undefined;
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** SHA-256 digest of a string's UTF-8 bytes. */
export async function sha256(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", utf8(text)));
}

/**
 * Compares two byte strings in time that depends only on their lengths, never on where they differ.
 * Callers compare fixed-length digests, so the length is public anyway. (workerd also has
 * `crypto.subtle.timingSafeEqual`, but Node, where the unit tests and the token script run, does not.)
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

/** An HMAC-SHA256 key for `secret`, usable for sign and verify. */
export function hmacKey(secret: string): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", utf8(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
    "verify",
  ]);
}
