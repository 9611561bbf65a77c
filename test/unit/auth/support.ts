import { expect } from "vitest";
import { base64UrlEncode, utf8 } from "../../../src/auth/bytes.ts";
import { GatewayError } from "../../../src/errors.ts";

/** A 32+ character secret, as the gateway requires for HS256. */
export const SECRET = "test-secret-0123456789abcdefghijklmnop";
export const OTHER_SECRET = "another-secret-0123456789abcdefghijklm";
/** A plaintext gateway key and its entry; tests check it never shows up in an error. */
export const KEY = "gw_test-key-do-not-echo-0123456789";
export const KEYS = JSON.stringify([
  { name: "backend", key: KEY },
  { name: "limited", key: "gw_limited-key-0123456789abcdef", models: ["openai/*"], rate: "free" },
]);

/** A request to the gateway with the given headers. */
export function req(
  headers: Record<string, string> = {},
  url = "https://gw.test/v1/chat/completions",
): Request {
  return new Request(url, { method: "POST", headers });
}

/** Awaits a rejection and returns it as a GatewayError with the given status. */
export async function gatewayError(p: Promise<unknown>, status: number): Promise<GatewayError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GatewayError);
  const ge = err as GatewayError;
  expect(ge.status).toBe(status);
  return ge;
}

/** Seconds since the epoch. */
export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** Signs any payload as HS256, bypassing signJwt's types: for claims the gateway must refuse. */
export async function signRaw(
  payload: unknown,
  secret = SECRET,
  header: unknown = { alg: "HS256", typ: "JWT" },
) {
  const enc = (v: unknown) => base64UrlEncode(utf8(JSON.stringify(v)));
  const input = `${enc(header)}.${enc(payload)}`;
  const key = await crypto.subtle.importKey("raw", utf8(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  return `${input}.${base64UrlEncode(new Uint8Array(await crypto.subtle.sign("HMAC", key, utf8(input))))}`;
}
