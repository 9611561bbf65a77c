import { gatewayKeys } from "./auth/gateway-keys.ts";
import { allowsAnonymous, jwtSecretOf } from "./auth/principal.ts";
import { localRateLimit, ratePeriodSeconds } from "./auth/rate-limit.ts";
import { resumeSecretOf } from "./auth/resume-token.ts";
import { type Env, secret } from "./env.ts";
import { ConfigError } from "./errors.ts";
import type { GatewayConfig } from "./exchange/settings.ts";
import { bindClassifiers } from "./guardrail/classifiers/bind.ts";
import { parseGuardrailConfig } from "./guardrail/config.ts";
import type { GuardrailConfig } from "./guardrail/types.ts";
import { demoProvider } from "./upstream/demo/transport.ts";
import { parseAliases } from "./upstream/models.ts";
import { parseNativeFallbacks } from "./upstream/native-fallbacks.ts";
import { buildProviders } from "./upstream/providers.ts";
import { workersAiProvider } from "./upstream/workers-ai/transport.ts";

/** The gateway's settings (the shape lives with the exchange that uses them; parsed here). */
export type { GatewayConfig };

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
  // Its errors already start with the variable they are about (GUARDRAIL_RULES: or GUARDRAIL_MODE:).
  if (!parsed.ok) throw new ConfigError(parsed.error);
  return parsed.config;
}

function boolVar(env: Env, name: keyof Env, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  if (raw === "true" || raw === "false") return raw === "true";
  throw new ConfigError(`${String(name)} must be "true" or "false"`);
}

function onOffVar(env: Env, name: keyof Env, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  if (raw === "on" || raw === "off") return raw === "on";
  throw new ConfigError(`${String(name)} must be "on" or "off"`);
}

/** Parses the environment into a config; a mistake is a ConfigError naming the variable. */
export function parseConfig(env: Env): GatewayConfig {
  const demo = demoProvider({
    firstTokenMs: intVar(env, "DEMO_FIRST_TOKEN_MS", 300, 0, 60_000),
    intervalMs: intVar(env, "DEMO_TOKEN_INTERVAL_MS", 35, 0, 10_000),
  });
  const providers = buildProviders(env, (name) => secret(env, name), [demo, workersAiProvider(env.AI)]);
  const guardrail = guardrailConfig(env);
  return {
    providers,
    aliases: parseAliases(env.MODEL_ALIASES, providers),
    nativeFallbacks: parseNativeFallbacks(env.NATIVE_FALLBACKS, providers),
    continuation: {
      enabled: onOffVar(env, "CONTINUATION", true),
      attempts: intVar(env, "CONTINUATION_ATTEMPTS", 2, 0, 5),
    },
    maxBodyBytes: intVar(env, "MAX_BODY_BYTES", 1024 * 1024, 1024, 100 * 1024 * 1024),
    upstreamTimeoutMs: intVar(env, "UPSTREAM_TIMEOUT_MS", 60_000, 100, 600_000),
    resumable: boolVar(env, "RESUMABLE", true),
    streamTtlSeconds: intVar(env, "STREAM_TTL_SECONDS", 3600, 1, 30 * 24 * 3600),
    streamHosts: intVar(env, "STREAM_HOSTS", 16, 0, 1024),
    guardrail,
    // Keys are read here, at the edge; the stream only ever sees a ready call.
    classifiers: bindClassifiers(guardrail.classifiers, {
      fetch: (input, init) => fetch(input, init),
      secret: (name) => secret(env, name),
      ai: env.AI,
    }),
    maxOpenStreams: intVar(env, "MAX_OPEN_STREAMS", 20, 0, 10_000),
    resilience: {
      retryAttempts: intVar(env, "RETRY_ATTEMPTS", 3, 1, 10),
      retryBackoffMs: intVar(env, "RETRY_BACKOFF_MS", 250, 0, 10_000),
      retryAfterMaxMs: intVar(env, "RETRY_AFTER_MAX_MS", 10_000, 0, 120_000),
      ttftDeadlineMs: intVar(env, "TTFT_DEADLINE_MS", 0, 0, 600_000),
      circuitFailures: intVar(env, "CIRCUIT_FAILURES", 3, 1, 1000),
      circuitCooldownMs: intVar(env, "CIRCUIT_COOLDOWN_MS", 30_000, 0, 3_600_000),
    },
    streamLimits: {
      maxEvents: intVar(env, "STREAM_MAX_EVENTS", 100_000, 1, 10_000_000),
      maxBytes: intVar(env, "STREAM_MAX_BYTES", 32 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    },
    // 8 MiB by default: room for the biggest single events providers send (an inline image or a big
    // tool result can pass the 2 MB row limit, see docs/storage.md), while an event that never ends is
    // stopped long before it fills an isolate's 128 MB. At most 64 MiB for the same reason.
    maxEventBytes: intVar(env, "MAX_EVENT_BYTES", 8 * 1024 * 1024, 1024, 64 * 1024 * 1024),
    socket: {
      maxStreams: intVar(env, "WS_MAX_STREAMS", 16, 1, 1000),
      maxMessageBytes: intVar(env, "WS_MAX_MESSAGE_BYTES", 1024 * 1024, 1024, 100 * 1024 * 1024),
      messagesPerSecond: intVar(env, "WS_MESSAGE_RATE", 20, 1, 10_000),
      sendBufferBytes: intVar(env, "WS_SEND_BUFFER_BYTES", 1024 * 1024, 16 * 1024, 64 * 1024 * 1024),
    },
    watch: {
      keepAliveMs: intVar(env, "KEEPALIVE_MS", 15_000, 0, 600_000),
      idleTimeoutMs: intVar(env, "STREAM_IDLE_TIMEOUT_MS", 30_000, 0, 3_600_000),
      firstTokenTimeoutMs: intVar(env, "FIRST_TOKEN_TIMEOUT_MS", 300_000, 0, 3_600_000),
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

/**
 * Every setting the worker checks on first use, checked at once; throws the first ConfigError. What
 * `scripts/check-config.ts` runs before `npm start`, `npm run build` and `npm run deploy`, so a bad
 * variable stops them instead of turning every request into a 500. Secrets that are not set here
 * (deployed ones) are skipped, as the worker would find them unset too.
 */
export async function checkSettings(env: Env): Promise<GatewayConfig> {
  const config = parseConfig(env);
  allowsAnonymous(env);
  jwtSecretOf(env);
  resumeSecretOf(env);
  if (env.GATEWAY_KEYS !== undefined && env.GATEWAY_KEYS.trim() !== "") {
    const keys = await gatewayKeys(env.GATEWAY_KEYS);
    if (!keys.ok) throw new ConfigError(keys.reason);
  }
  ratePeriodSeconds(env);
  localRateLimit(env);
  return config;
}
