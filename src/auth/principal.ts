import { ConfigError, GatewayError } from "../errors.ts";
import { ERROR_CODE } from "../protocol.ts";
import { sha256, toHex } from "./bytes.ts";
import { presentedCredential, unauthorized } from "./credentials.ts";
import { findGatewayKey, type GatewayKey, gatewayKeys } from "./gateway-keys.ts";
import { type GatewayClaims, looksLikeJwt, MIN_JWT_SECRET_LENGTH, verifyJwt } from "./jwt.ts";
import { DEFAULT_ANONYMOUS_MODELS, matchesModel, parseModelList } from "./model-patterns.ts";

/** The variables authentication reads (a subset of the Worker's `Env`). */
export interface AuthEnv {
  /** JSON list of gateway keys (see gateway-keys.ts and docs/security.md). Secret. */
  readonly GATEWAY_KEYS?: string;
  /** Shared HS256 secret for browser tokens, at least 32 characters. Secret. */
  readonly GATEWAY_JWT_SECRET?: string;
  /** "true" lets callers without credentials in, for `ANONYMOUS_MODELS` only. Default "false". */
  readonly ALLOW_ANONYMOUS?: string;
  /** Comma-separated model patterns anonymous callers may use; default `demo/*`. */
  readonly ANONYMOUS_MODELS?: string;
  /** Signs resume tokens; defaults to `GATEWAY_JWT_SECRET`. Secret. */
  readonly RESUME_TOKEN_SECRET?: string;
}

/** How a caller proved who they are. */
export type PrincipalKind = "key" | "token" | "anonymous";

/** Who is calling. `id` owns streams and keys rate limits; it is never a credential. */
export interface Principal {
  /** `key:<name>`, `jwt:<first 128 bits of sha256(sub), hex>` or `anonymous`. */
  readonly id: string;
  readonly kind: PrincipalKind;
  /** The key's name, the token's `sub` (may be personal data: log `id`, not this) or "anonymous". */
  readonly name: string;
  /** Allowed model patterns; absent means every model (anonymous callers use `ANONYMOUS_MODELS`). */
  readonly models?: readonly string[];
  /** Selects the rate-limit binding `RATE_LIMIT_<CLASS>`. */
  readonly rateClass?: string;
}

/** The principal of every caller without credentials, when anonymous access is on. */
export const ANONYMOUS_PRINCIPAL: Principal = Object.freeze({
  id: "anonymous",
  kind: "anonymous",
  name: "anonymous",
  rateClass: "anonymous",
});

/** The answer when nothing is configured: secure by default, and the operator learns what to set. */
export const UNCONFIGURED_MESSAGE =
  "this gateway has no credentials configured and refuses every request: the operator must set " +
  "GATEWAY_KEYS or GATEWAY_JWT_SECRET (or ALLOW_ANONYMOUS=true for local use)";

const MISSING_MESSAGE =
  "missing credentials: send a gateway key (Authorization: Bearer, x-api-key or x-goog-api-key) " +
  "or a browser token (Authorization: Bearer)";

/** A sub is hashed so that an e-mail address used as `sub` never lands in storage or analytics. */
const TOKEN_ID_HEX_CHARS = 32;

/** True when `ALLOW_ANONYMOUS` is "true"; anything but "true", "false" or unset is a config error. */
export function allowsAnonymous(env: AuthEnv): boolean {
  const raw = env.ALLOW_ANONYMOUS;
  if (raw === undefined || raw === "" || raw === "false") return false;
  if (raw === "true") return true;
  throw new ConfigError('ALLOW_ANONYMOUS must be "true" or "false"');
}

/** `GATEWAY_JWT_SECRET` when set; a short one is a configuration error (it could be brute-forced). */
export function jwtSecretOf(env: AuthEnv): string | undefined {
  const secret = env.GATEWAY_JWT_SECRET;
  if (secret === undefined || secret === "") return undefined;
  if (secret.length < MIN_JWT_SECRET_LENGTH)
    throw new ConfigError(`GATEWAY_JWT_SECRET must be at least ${MIN_JWT_SECRET_LENGTH} characters`);
  return secret;
}

async function configuredKeys(env: AuthEnv): Promise<readonly GatewayKey[]> {
  const raw = env.GATEWAY_KEYS;
  if (raw === undefined || raw.trim() === "") return [];
  const parsed = await gatewayKeys(raw);
  if (!parsed.ok) throw new ConfigError(parsed.reason);
  return parsed.keys;
}

function keyPrincipal(key: GatewayKey): Principal {
  return {
    id: `key:${key.name}`,
    kind: "key",
    name: key.name,
    ...(key.models === undefined ? {} : { models: key.models }),
    ...(key.rate === undefined ? {} : { rateClass: key.rate }),
  };
}

async function tokenPrincipal(claims: GatewayClaims): Promise<Principal> {
  const hash = toHex(await sha256(claims.sub)).slice(0, TOKEN_ID_HEX_CHARS);
  return {
    id: `jwt:${hash}`,
    kind: "token",
    name: claims.sub,
    ...(claims.models === undefined ? {} : { models: claims.models }),
    ...(claims.rate === undefined ? {} : { rateClass: claims.rate }),
  };
}

/**
 * Who is calling. A gateway key gives a key principal, a JWT-shaped bearer a token principal, no
 * credential the anonymous principal if `ALLOW_ANONYMOUS` is "true". Throws a 401 GatewayError
 * naming the reason (never echoing the credential), or a ConfigError (500) for a broken setup.
 */
export async function authenticate(request: Request, env: AuthEnv): Promise<Principal> {
  const anonymous = allowsAnonymous(env);
  const jwtSecret = jwtSecretOf(env);
  const keys = await configuredKeys(env);
  if (keys.length === 0 && jwtSecret === undefined && !anonymous) throw unauthorized(UNCONFIGURED_MESSAGE);
  const credential = presentedCredential(request.headers);
  if (credential === undefined) {
    if (anonymous) return ANONYMOUS_PRINCIPAL;
    throw unauthorized(MISSING_MESSAGE);
  }
  if (looksLikeJwt(credential)) {
    // A credential of a kind this gateway cannot check carries no authority: with anonymous access
    // on it is simply ignored (the SDKs insist on some API key, e.g. "unused"); otherwise a 401.
    if (jwtSecret === undefined) {
      if (anonymous) return ANONYMOUS_PRINCIPAL;
      throw unauthorized("browser tokens are not enabled on this gateway (GATEWAY_JWT_SECRET is not set)");
    }
    const result = await verifyJwt(credential, jwtSecret);
    if (!result.ok) throw unauthorized(result.message);
    return tokenPrincipal(result.claims);
  }
  if (keys.length === 0) {
    if (anonymous) return ANONYMOUS_PRINCIPAL;
    throw unauthorized(
      "gateway keys are not enabled on this gateway (GATEWAY_KEYS is not set); use a browser token",
    );
  }
  const key = await findGatewayKey(keys, credential);
  if (key === undefined) throw unauthorized("invalid gateway key");
  return keyPrincipal(key);
}

/** The model patterns that bind `principal`, or undefined when it may use every model. */
function patternsFor(principal: Principal, env: AuthEnv): readonly string[] | undefined {
  if (principal.kind === "anonymous") return parseModelList(env.ANONYMOUS_MODELS, DEFAULT_ANONYMOUS_MODELS);
  return principal.models;
}

/**
 * True if `principal` may use `model`, the canonical `<provider>/<model>` id (after alias
 * resolution): anonymous callers only `ANONYMOUS_MODELS`, others their `models` if they have one.
 */
export function mayUseModel(principal: Principal, model: string, env: AuthEnv): boolean {
  const patterns = patternsFor(principal, env);
  return patterns === undefined || matchesModel(patterns, model);
}

/** Shown patterns are the caller's own (token claim, key entry) or the public anonymous list. */
const MAX_LISTED_PATTERNS = 10;
/** The model comes from the request: bounded and JSON-quoted so it cannot break the message. */
const MAX_ECHOED_MODEL = 100;

/** `mayUseModel`, throwing a 403 GatewayError that names the model and what is allowed instead. */
export function assertMayUseModel(principal: Principal, model: string, env: AuthEnv): void {
  if (mayUseModel(principal, model, env)) return;
  const patterns = patternsFor(principal, env) ?? [];
  const who =
    principal.kind === "anonymous"
      ? "anonymous callers (send a gateway key or browser token for other models)"
      : principal.kind === "token"
        ? "this browser token"
        : `gateway key "${principal.name}"`;
  const listed = patterns.slice(0, MAX_LISTED_PATTERNS).join(", ");
  const more = patterns.length > MAX_LISTED_PATTERNS ? ", …" : "";
  throw new GatewayError(
    403,
    ERROR_CODE.forbidden,
    `model ${JSON.stringify(model.slice(0, MAX_ECHOED_MODEL))} is not allowed for ${who}; allowed: ${listed}${more}`,
  );
}
