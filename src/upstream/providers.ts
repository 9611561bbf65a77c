import { ConfigError, GatewayError } from "../errors.ts";
import { ERROR_CODE } from "../protocol.ts";

/** The API family a provider speaks: decides its native routes, auth header and error shape. */
export type ApiFamily = "openai" | "anthropic" | "gemini" | "workers-ai";

/** How a provider is reached: over HTTP with `fetch`, or in-process (the demo provider, bindings). */
export interface Transport {
  fetch(url: string, init: RequestInit): Promise<Response>;
}

/** One configured upstream. Everything provider-specific is data here, never a branch in shared code. */
export interface Provider {
  /** Route prefix (`/<name>/v1/...`) and model prefix (`<name>/<model>`). */
  readonly name: string;
  readonly family: ApiFamily;
  /** Base URL from configuration only; never taken from a request. */
  readonly baseUrl: string;
  /** The API key, read from the secret the configuration names; undefined when not set. */
  readonly apiKey: string | undefined;
  /** Name of the secret holding the key, for error messages (the key itself is never shown). */
  readonly keySecret: string | undefined;
  /**
   * What the provider still lacks before it can answer, by name only (`secret GROQ_API_KEY`,
   * `binding AI`), or undefined when it is ready: what `/healthz` reports.
   */
  readonly needs: string | undefined;
  readonly transport: Transport;
  /** How an answer cut mid-stream is continued on this provider; absent: never (the explicit error). */
  readonly continuation?: ContinuationStrategy;
}

/**
 * How a provider continues an answer another attempt started (docs in the README): `prefill` sends
 * the delivered text as a trailing assistant message to continue (Anthropic; vLLM's
 * `continue_final_message` on OpenAI-compatible servers), `prefill-prefix` marks it `prefix: true`
 * (DeepSeek, Mistral), `replay` re-sends the request unchanged and keeps only an answer that
 * reproduces the delivered text exactly, `off` never continues.
 */
export type ContinuationStrategy = "prefill" | "prefill-prefix" | "replay" | "off";

/** Which strategies each family can use, the first being its default. */
const CONTINUATIONS: Readonly<Record<ApiFamily, readonly ContinuationStrategy[]>> = {
  openai: ["replay", "prefill", "prefill-prefix", "off"],
  anthropic: ["prefill", "replay", "off"],
  gemini: ["replay", "off"],
  "workers-ai": ["off"],
};

const httpTransport: Transport = { fetch: (url, init) => fetch(url, init) };

/** A provider name is a lowercase slug: it appears in paths and model ids. */
const PROVIDER_NAME = /^[a-z][a-z0-9-]{0,31}$/;

/** Shape of one entry of the `PROVIDERS` variable. */
interface ProviderEntry {
  readonly name: string;
  readonly baseUrl: string;
  readonly format: ApiFamily;
  readonly keySecret?: string;
  readonly continuation?: ContinuationStrategy;
}

function isFamily(v: unknown): v is ApiFamily {
  return v === "openai" || v === "anthropic" || v === "gemini";
}

/** Validates the `PROVIDERS` JSON; an invalid entry is a configuration error naming the entry. */
export function parseProviderEntries(json: string | undefined): ProviderEntry[] {
  if (json === undefined || json.trim() === "") return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new ConfigError("PROVIDERS is not valid JSON");
  }
  if (!Array.isArray(parsed)) throw new ConfigError("PROVIDERS must be a JSON array");
  return parsed.map((entry: unknown, i): ProviderEntry => {
    if (typeof entry !== "object" || entry === null)
      throw new ConfigError(`PROVIDERS[${i}] must be an object`);
    const e = entry as Record<string, unknown>;
    const name = e.name;
    if (typeof name !== "string" || !PROVIDER_NAME.test(name)) {
      throw new ConfigError(`PROVIDERS[${i}].name must be a lowercase slug (a-z, 0-9, -)`);
    }
    const baseUrl = e.baseUrl;
    if (typeof baseUrl !== "string" || !isHttpUrl(baseUrl)) {
      throw new ConfigError(`PROVIDERS[${i}] (${name}): baseUrl must be an http(s) URL`);
    }
    const format = e.format ?? "openai";
    if (!isFamily(format)) {
      throw new ConfigError(`PROVIDERS[${i}] (${name}): format must be "openai", "anthropic" or "gemini"`);
    }
    const keySecret = e.keySecret;
    if (keySecret !== undefined && (typeof keySecret !== "string" || !/^[A-Z][A-Z0-9_]*$/.test(keySecret))) {
      throw new ConfigError(`PROVIDERS[${i}] (${name}): keySecret must name a secret like GROQ_API_KEY`);
    }
    const continuation = e.continuation;
    const allowed = CONTINUATIONS[format];
    if (continuation !== undefined && !allowed.includes(continuation as ContinuationStrategy)) {
      throw new ConfigError(
        `PROVIDERS[${i}] (${name}): continuation must be ${allowed.map((a) => `"${a}"`).join(", ")} for format ${format}`,
      );
    }
    return {
      name,
      baseUrl: trimSlash(baseUrl),
      format,
      ...(keySecret === undefined ? {} : { keySecret }),
      ...(continuation === undefined ? {} : { continuation: continuation as ContinuationStrategy }),
    };
  });
}

function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return u.protocol === "https:" || u.protocol === "http:";
  } catch {
    return false;
  }
}

function trimSlash(s: string): string {
  return s.endsWith("/") ? s.slice(0, -1) : s;
}

/** The variables the provider table is built from (read from the environment by config.ts). */
export interface ProviderVars {
  readonly OPENAI_BASE_URL?: string | undefined;
  readonly ANTHROPIC_BASE_URL?: string | undefined;
  readonly GEMINI_BASE_URL?: string | undefined;
  /** JSON list of extra providers. */
  readonly PROVIDERS?: string | undefined;
}

/**
 * Builds the provider table; `secretOf` reads a key by the secret's name (names come from
 * configuration), `extra` adds in-process providers (demo, bindings).
 */
export function buildProviders(
  env: ProviderVars,
  secretOf: (name: string) => string | undefined,
  extra: readonly Provider[],
): ReadonlyMap<string, Provider> {
  const builtIn: ProviderEntry[] = [
    {
      name: "openai",
      format: "openai",
      baseUrl: env.OPENAI_BASE_URL ?? "https://api.openai.com/v1",
      keySecret: "OPENAI_API_KEY",
    },
    {
      name: "anthropic",
      format: "anthropic",
      baseUrl: env.ANTHROPIC_BASE_URL ?? "https://api.anthropic.com",
      keySecret: "ANTHROPIC_API_KEY",
    },
    {
      name: "gemini",
      format: "gemini",
      baseUrl: env.GEMINI_BASE_URL ?? "https://generativelanguage.googleapis.com",
      keySecret: "GEMINI_API_KEY",
    },
  ];
  for (const b of builtIn) {
    if (!isHttpUrl(b.baseUrl))
      throw new ConfigError(`${b.name.toUpperCase()}_BASE_URL must be an http(s) URL`);
  }
  const map = new Map<string, Provider>();
  for (const p of extra) map.set(p.name, p);
  const custom = parseProviderEntries(env.PROVIDERS);
  for (const e of [...builtIn, ...custom]) {
    if (map.has(e.name)) throw new ConfigError(`PROVIDERS: "${e.name}" is already a provider name`);
    const apiKey = e.keySecret === undefined ? undefined : secretOf(e.keySecret);
    map.set(e.name, {
      name: e.name,
      family: e.format,
      baseUrl: trimSlash(e.baseUrl),
      keySecret: e.keySecret,
      apiKey,
      needs: e.keySecret !== undefined && apiKey === undefined ? `secret ${e.keySecret}` : undefined,
      transport: httpTransport,
      continuation: e.continuation ?? CONTINUATIONS[e.format][0] ?? "off",
    });
  }
  return map;
}

/** Looks up a provider by name, answering 404 naming it when unknown. */
export function requireProvider(providers: ReadonlyMap<string, Provider>, name: string): Provider {
  const p = providers.get(name);
  if (p === undefined) {
    throw new GatewayError(404, ERROR_CODE.unknownProvider, `unknown provider "${truncate(name)}"`);
  }
  return p;
}

/** Shortens a client-supplied name before it is echoed in an error message. */
export function truncate(s: string, max = 64): string {
  return s.length > max ? `${s.slice(0, max)}…` : s;
}
