import { constantTimeEqual, fromHex, sha256 } from "./bytes.ts";
import { looksLikeJwt } from "./jwt.ts";

/**
 * One configured gateway key. Only its SHA-256 digest is kept: the plaintext never sits in the
 * gateway's memory beyond parsing, and comparisons run over fixed-length digests.
 */
export interface GatewayKey {
  /** Names the key in principal ids (`key:<name>`), logs and analytics; never secret. */
  readonly name: string;
  readonly digest: Uint8Array;
  /** Allowed models (exact ids or `prefix*` patterns); absent means every model. */
  readonly models?: readonly string[];
  /** Rate class: selects the rate-limit binding `RATE_LIMIT_<RATE>`. */
  readonly rate?: string;
}

/** The outcome of parsing `GATEWAY_KEYS`; `reason` names the entry and field, never a key. */
export type KeysResult =
  | { readonly ok: true; readonly keys: readonly GatewayKey[] }
  | { readonly ok: false; readonly reason: string };

/** Names end up in principal ids and headers: a short slug. */
const KEY_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const SHA256_HEX = /^[0-9a-fA-F]{64}$/;
const RATE_CLASS = /^[A-Za-z0-9_-]{1,32}$/;
/**
 * A plaintext key must be long enough that guessing is hopeless: 16 characters is the floor,
 * `openssl rand -base64 32` (or `npm run token -- --new-key NAME`) gives 43.
 */
export const MIN_KEY_LENGTH = 16;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Parses `GATEWAY_KEYS`, a JSON array of `{"name": "...", "sha256": "<64 hex>"}` (recommended: the
 * configuration never holds a usable key) or `{"name": "...", "key": "<plaintext>"}` (hashed here;
 * handy in `.dev.vars`), each optionally with `"models": [...]` and `"rate": "..."`.
 */
export async function parseGatewayKeys(raw: string): Promise<KeysResult> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    // The value is secret: say what is wrong with it, not what it is.
    return { ok: false, reason: "GATEWAY_KEYS is not valid JSON" };
  }
  if (!Array.isArray(parsed)) return { ok: false, reason: "GATEWAY_KEYS must be a JSON array" };
  const keys: GatewayKey[] = [];
  const names = new Set<string>();
  for (const [i, entry] of parsed.entries()) {
    const at = `GATEWAY_KEYS[${i}]`;
    if (!isRecord(entry)) return { ok: false, reason: `${at} must be an object` };
    const { name, sha256: hex, key, models, rate } = entry;
    if (typeof name !== "string" || !KEY_NAME.test(name))
      return { ok: false, reason: `${at}.name must be 1-64 characters of letters, digits, _ . -` };
    if (names.has(name)) return { ok: false, reason: `${at}.name "${name}" is used twice` };
    names.add(name);
    let digest: Uint8Array | undefined;
    if (typeof hex === "string" && key === undefined) {
      digest = SHA256_HEX.test(hex) ? fromHex(hex) : undefined;
      if (digest === undefined) return { ok: false, reason: `${at} (${name}): sha256 must be 64 hex digits` };
    } else if (typeof key === "string" && hex === undefined) {
      if (key.length < MIN_KEY_LENGTH)
        return { ok: false, reason: `${at} (${name}): key must be at least ${MIN_KEY_LENGTH} characters` };
      // A bearer shaped like a JWT is checked as a browser token, so such a key could never match.
      if (looksLikeJwt(key))
        return {
          ok: false,
          reason: `${at} (${name}): key must not look like a JWT (three dot-separated parts)`,
        };
      digest = await sha256(key);
    } else {
      return { ok: false, reason: `${at} (${name}): give exactly one of "sha256" (hex digest) or "key"` };
    }
    if (
      models !== undefined &&
      (!Array.isArray(models) || !models.every((m) => typeof m === "string" && m !== ""))
    )
      return { ok: false, reason: `${at} (${name}): models must be an array of model ids or prefixes` };
    if (rate !== undefined && (typeof rate !== "string" || !RATE_CLASS.test(rate)))
      return { ok: false, reason: `${at} (${name}): rate must be a short name (letters, digits, _ or -)` };
    keys.push({
      name,
      digest,
      ...(Array.isArray(models) ? { models: models.filter((m) => typeof m === "string") } : {}),
      ...(typeof rate === "string" ? { rate } : {}),
    });
  }
  return { ok: true, keys };
}

/** The secret rarely changes within an isolate: parse (and hash) it once, not per request. */
let cached: { readonly raw: string; readonly result: Promise<KeysResult> } | undefined;

/** `parseGatewayKeys`, memoized on the raw value. */
export function gatewayKeys(raw: string): Promise<KeysResult> {
  if (cached?.raw !== raw) cached = { raw, result: parseGatewayKeys(raw) };
  return cached.result;
}

/**
 * The configured key matching `presented`, if any. The presented key is hashed and compared with
 * every entry's digest in constant time, without stopping at a match, so timing tells nothing about
 * the key nor about which entry matched.
 */
export async function findGatewayKey(
  keys: readonly GatewayKey[],
  presented: string,
): Promise<GatewayKey | undefined> {
  const digest = await sha256(presented);
  let found: GatewayKey | undefined;
  for (const k of keys) {
    const match = constantTimeEqual(digest, k.digest);
    if (match && found === undefined) found = k;
  }
  return found;
}
