import type { Env } from "./env.ts";
import { parseGuardrailConfig } from "./guardrail/config.ts";
import type { GuardrailConfig } from "./guardrail/types.ts";
import type { StreamLimits } from "./resumable/session.ts";
import { demoProvider } from "./upstream/demo/transport.ts";
import { parseAliases } from "./upstream/models.ts";
import { buildProviders, ConfigError, type Provider } from "./upstream/providers.ts";
import { workersAiProvider } from "./upstream/workers-ai/transport.ts";

/** The gateway's settings, parsed and validated from the environment once per isolate. */
export interface GatewayConfig {
  readonly providers: ReadonlyMap<string, Provider>;
  readonly aliases: ReadonlyMap<string, string>;
  readonly maxBodyBytes: number;
  readonly upstreamTimeoutMs: number;
  /** Streams go through a Durable Object (resumable) unless turned off. */
  readonly resumable: boolean;
  readonly streamTtlSeconds: number;
  readonly streamLimits: StreamLimits;
  readonly guardrail: GuardrailConfig;
  /** Open streams one principal may have at once; 0 means no limit. */
  readonly maxOpenStreams: number;
}

function intVar(env: Env, name: keyof Env, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (typeof raw !== "string" || !Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`${String(name)} must be an integer between ${min} and ${max}`);
  }
  return n;
}

/** The guardrail settings; a bad rule is a configuration error naming the rule, never a crash mid-stream. */
function guardrailConfig(env: Env): GuardrailConfig {
  const parsed = parseGuardrailConfig(env.GUARDRAIL_MODE, env.GUARDRAIL_RULES);
  if (!parsed.ok) throw new ConfigError(`GUARDRAIL_RULES / GUARDRAIL_MODE: ${parsed.error}`);
  return parsed.config;
}

function boolVar(env: Env, name: keyof Env, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  if (raw === "true" || raw === "false") return raw === "true";
  throw new ConfigError(`${String(name)} must be "true" or "false"`);
}

/** Parses the environment into a config; a mistake is a ConfigError naming the variable. */
export function parseConfig(env: Env): GatewayConfig {
  const demo = demoProvider({
    firstTokenMs: intVar(env, "DEMO_FIRST_TOKEN_MS", 300, 0, 60_000),
    intervalMs: intVar(env, "DEMO_TOKEN_INTERVAL_MS", 35, 0, 10_000),
  });
  return {
    providers: buildProviders(env, [demo, workersAiProvider(env.AI)]),
    aliases: parseAliases(env.MODEL_ALIASES),
    maxBodyBytes: intVar(env, "MAX_BODY_BYTES", 1024 * 1024, 1024, 100 * 1024 * 1024),
    upstreamTimeoutMs: intVar(env, "UPSTREAM_TIMEOUT_MS", 60_000, 100, 600_000),
    resumable: boolVar(env, "RESUMABLE", true),
    streamTtlSeconds: intVar(env, "STREAM_TTL_SECONDS", 3600, 1, 30 * 24 * 3600),
    guardrail: guardrailConfig(env),
    maxOpenStreams: intVar(env, "MAX_OPEN_STREAMS", 20, 0, 10_000),
    streamLimits: {
      maxEvents: intVar(env, "STREAM_MAX_EVENTS", 100_000, 1, 10_000_000),
      maxBytes: intVar(env, "STREAM_MAX_BYTES", 32 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    },
  };
}

// The env object is the same for every request of an isolate, so parse it once.
const cache = new WeakMap<Env, GatewayConfig>();

/** The config for `env`, parsed on first use. */
export function configFor(env: Env): GatewayConfig {
  let config = cache.get(env);
  if (config === undefined) {
    config = parseConfig(env);
    cache.set(env, config);
  }
  return config;
}
