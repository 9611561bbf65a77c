import { GatewayError } from "../errors.ts";
import { ERROR_CODE } from "../protocol.ts";

/**
 * Request headers that may carry a gateway credential, in the order they are read: what the OpenAI
 * SDK sends (`Authorization: Bearer`), what the Anthropic SDK sends (`x-api-key`) and what the
 * Gemini SDK sends (`x-goog-api-key`), so each official SDK works with a gateway key as its API key.
 */
export const CREDENTIAL_HEADER = {
  authorization: "authorization",
  anthropic: "x-api-key",
  gemini: "x-goog-api-key",
} as const;

/** Real keys and tokens are well under 1 KiB; longer values are refused before any hashing. */
export const MAX_CREDENTIAL_LENGTH = 4096;

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

/** A 401 in the caller's format; the message says what is wrong, never what was sent. */
export function unauthorized(message: string): GatewayError {
  return new GatewayError(401, ERROR_CODE.unauthorized, message);
}

/**
 * The one credential a request presents, or undefined when it presents none. Two headers with
 * different values are refused: guessing which one the caller meant would be a silent surprise.
 */
export function presentedCredential(headers: Headers): string | undefined {
  const found = new Map<string, string>();
  const auth = headers.get(CREDENTIAL_HEADER.authorization);
  if (auth !== null && auth.trim() !== "") {
    if (auth.length > MAX_CREDENTIAL_LENGTH) throw unauthorized("authorization header is too long");
    const m = BEARER.exec(auth);
    if (m?.[1] === undefined)
      throw unauthorized('authorization header must be "Bearer <gateway key or browser token>"');
    found.set(CREDENTIAL_HEADER.authorization, m[1]);
  }
  for (const name of [CREDENTIAL_HEADER.anthropic, CREDENTIAL_HEADER.gemini]) {
    const value = headers.get(name)?.trim();
    if (value === undefined || value === "") continue;
    if (value.length > MAX_CREDENTIAL_LENGTH) throw unauthorized(`${name} header is too long`);
    found.set(name, value);
  }
  const distinct = new Set(found.values());
  if (distinct.size > 1) {
    throw unauthorized(
      `conflicting credentials in ${[...found.keys()].join(" and ")}: send one gateway key or token`,
    );
  }
  const [only] = distinct;
  return only;
}
