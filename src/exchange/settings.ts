import type { BoundClassifier } from "../guardrail/classifiers/types.ts";
import type { GuardrailConfig } from "../guardrail/types.ts";
import type { StreamWatch } from "../pipeline/upstream-events.ts";
import type { StreamLimits } from "../resumable/session.ts";
import type { NativeFallbacks } from "../upstream/native-fallbacks.ts";
import type { Provider } from "../upstream/providers.ts";

/**
 * The gateway's settings, parsed and validated from the environment once per isolate by config.ts
 * (an edge). The exchange receives them as data and never reads the environment itself.
 */
export interface GatewayConfig {
  readonly providers: ReadonlyMap<string, Provider>;
  /** Alias → its ordered fallback chain of `<provider>/<model>` targets. */
  readonly aliases: ReadonlyMap<string, readonly string[]>;
  /** Mid-stream continuation: `CONTINUATION` (on/off) and `CONTINUATION_ATTEMPTS` per stream. */
  readonly continuation: { readonly enabled: boolean; readonly attempts: number };
  /** Same-wire-format fallback targets of native routes (`NATIVE_FALLBACKS`). */
  readonly nativeFallbacks: NativeFallbacks;
  readonly maxBodyBytes: number;
  readonly upstreamTimeoutMs: number;
  /** Streams go through a Durable Object (resumable) unless turned off. */
  readonly resumable: boolean;
  readonly streamTtlSeconds: number;
  /**
   * `STREAM_HOSTS`: stream-host objects per colo that resumable streams are spread over (each holds
   * many streams); 0 gives every stream an object of its own.
   */
  readonly streamHosts: number;
  readonly streamLimits: StreamLimits;
  /**
   * `MAX_EVENT_BYTES`: the longest single upstream event a stream reads (counted in characters, each
   * at least one byte); a longer one ends the stream with `upstream_event_too_large`.
   */
  readonly maxEventBytes: number;
  /** How long a stream may be silent: keep-alives to the client, the stall watchdog on the upstream. */
  readonly watch: StreamWatch;
  readonly guardrail: GuardrailConfig;
  /** `guardrail.classifiers` bound to their keys and transports (config.ts), ready to call. */
  readonly classifiers: readonly BoundClassifier[];
  /** Open streams one principal may have at once; 0 means no limit. */
  readonly maxOpenStreams: number;
  /** How attempts are retried, routed around and hedged (see exchange/attempts.ts). */
  readonly resilience: Resilience;
  /** The limits of one `GET /v1/ws` socket (`WS_*`, docs/websocket.md). */
  readonly socket: SocketSettings;
}

/** One gateway WebSocket's limits. */
export interface SocketSettings {
  /** `WS_MAX_STREAMS`: streams relayed at once on one socket (further capped by `maxOpenStreams`). */
  readonly maxStreams: number;
  /** `WS_MAX_MESSAGE_BYTES`: the largest client message (workerd accepts larger frames). */
  readonly maxMessageBytes: number;
  /** `WS_MESSAGE_RATE`: messages per second other than `chat.create`, per socket. */
  readonly messagesPerSecond: number;
  /** `WS_SEND_BUFFER_BYTES`: bytes queued to a slow client before its stream is stopped (resumable). */
  readonly sendBufferBytes: number;
}

/** The attempt loop's settings (RETRY_*, TTFT_DEADLINE_MS, CIRCUIT_*). */
export interface Resilience {
  /** Attempts per target for failures before the first token. */
  readonly retryAttempts: number;
  /** Base of the jittered exponential backoff between attempts on one target. */
  readonly retryBackoffMs: number;
  /** A `retry-after` up to this long is waited for; a longer one moves to the next target. */
  readonly retryAfterMaxMs: number;
  /** No first token this long after an attempt was sent: the next target starts alongside (0: off). */
  readonly ttftDeadlineMs: number;
  /** Consecutive failures that open a target's circuit. */
  readonly circuitFailures: number;
  /** How long an open circuit skips its target. */
  readonly circuitCooldownMs: number;
}
