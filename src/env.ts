/**
 * The Worker's bindings and variables as declared in wrangler.toml. Secrets named by configuration
 * (e.g. a custom provider's key) are read through `secret()` since their names are not known here.
 * It imports nothing from the gateway: the modules that read a part of it (auth's `AuthEnv`,
 * `RateLimitEnv`) declare that part themselves, and `Env` satisfies them structurally.
 */
export interface Env {
  /** JSON list of gateway keys (see docs/security.md). Secret. */
  readonly GATEWAY_KEYS?: string;
  /** Shared HS256 secret for browser tokens, at least 32 characters. Secret. */
  readonly GATEWAY_JWT_SECRET?: string;
  /** "true" lets callers without credentials in, for `ANONYMOUS_MODELS` only. */
  readonly ALLOW_ANONYMOUS?: string;
  /** Comma-separated model patterns anonymous callers may use; default `demo/*`. */
  readonly ANONYMOUS_MODELS?: string;
  /** Signs resume tokens; defaults to `GATEWAY_JWT_SECRET`. Secret. */
  readonly RESUME_TOKEN_SECRET?: string;
  /** The rate-limiting binding for keys and tokens (`RATE_LIMIT_<CLASS>` ones are looked up by name). */
  readonly RATE_LIMIT?: RateLimit;
  readonly RATE_LIMIT_PERIOD_SECONDS?: string;
  /** Requests per principal per window, counted in memory (`npm start`); "0": no limit. */
  readonly LOCAL_RATE_LIMIT?: string;
  /** The rate-limiting binding for anonymous callers (counted per client IP). */
  readonly RATE_LIMIT_ANONYMOUS?: RateLimit;
  readonly OPENAI_BASE_URL?: string;
  readonly ANTHROPIC_BASE_URL?: string;
  readonly GEMINI_BASE_URL?: string;
  readonly OPENAI_API_KEY?: string;
  readonly ANTHROPIC_API_KEY?: string;
  readonly GEMINI_API_KEY?: string;
  /** JSON list of extra OpenAI-compatible providers. */
  readonly PROVIDERS?: string;
  readonly DEMO_FIRST_TOKEN_MS?: string;
  readonly DEMO_TOKEN_INTERVAL_MS?: string;
  readonly MAX_BODY_BYTES?: string;
  readonly UPSTREAM_TIMEOUT_MS?: string;
  /** JSON object of model aliases for the unified endpoint, e.g. {"fast": "groq/llama-3.3-70b"}. */
  readonly MODEL_ALIASES?: string;
  readonly NATIVE_FALLBACKS?: string;
  readonly CONTINUATION?: string;
  readonly CONTINUATION_ATTEMPTS?: string;
  /** Workers AI binding (optional: declare `[ai] binding = "AI"` in wrangler.toml to enable it). */
  readonly AI?: Ai;
  /** Cross-origin pages allowed to call the gateway: empty = same-origin only, `*`, or a comma list. */
  readonly ALLOWED_ORIGINS?: string;
  /** Guardrail mode: off | observe | enforce (default enforce). */
  readonly GUARDRAIL_MODE?: string;
  /** Guardrail rules as JSON (see README); empty means the safe defaults. */
  readonly GUARDRAIL_RULES?: string;
  /** "false" turns resumable streams off (plain passthrough for every stream). */
  readonly RESUMABLE?: string;
  readonly STREAM_TTL_SECONDS?: string;
  readonly STREAM_HOSTS?: string;
  readonly STREAM_MAX_EVENTS?: string;
  readonly STREAM_MAX_BYTES?: string;
  /** The longest single upstream event a stream reads (default 8 MiB); a longer one ends the stream. */
  readonly MAX_EVENT_BYTES?: string;
  /** Open streams a principal may have at once ("0": no limit). */
  readonly MAX_OPEN_STREAMS?: string;
  /** Attempts per target, and the backoff, `retry-after` cap, hedging deadline and circuit settings. */
  readonly RETRY_ATTEMPTS?: string;
  /** Silence limits: keep-alive comments to clients, and the stall watchdog on upstreams. */
  readonly KEEPALIVE_MS?: string;
  readonly STREAM_IDLE_TIMEOUT_MS?: string;
  readonly FIRST_TOKEN_TIMEOUT_MS?: string;
  readonly RETRY_BACKOFF_MS?: string;
  readonly RETRY_AFTER_MAX_MS?: string;
  readonly TTFT_DEADLINE_MS?: string;
  readonly CIRCUIT_FAILURES?: string;
  readonly CIRCUIT_COOLDOWN_MS?: string;
  /** `GET /v1/ws` limits: streams per socket, message size, control-message rate, send buffer. */
  readonly WS_MAX_STREAMS?: string;
  readonly WS_MAX_MESSAGE_BYTES?: string;
  readonly WS_MESSAGE_RATE?: string;
  readonly WS_SEND_BUFFER_BYTES?: string;
  /** One Durable Object per principal, counting its open streams. */
  readonly PRINCIPALS?: DurableObjectNamespace;
  /** One Durable Object per stream (resumable streams). */
  readonly STREAMS?: DurableObjectNamespace;
  /** One Durable Object per `/v1/ui/chat` chat: its owner and its newest stream (useChat's resume). */
  readonly CHATS?: DurableObjectNamespace;
  readonly TTFT?: AnalyticsEngineDataset;
}

/** Reads a string binding by a name that comes from configuration; non-strings count as unset. */
export function secret(env: Env, name: string): string | undefined {
  const value: unknown = (env as unknown as Record<string, unknown>)[name];
  return typeof value === "string" && value.length > 0 ? value : undefined;
}
