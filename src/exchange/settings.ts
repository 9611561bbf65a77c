import type { GuardrailConfig } from "../guardrail/types.ts";
import type { StreamLimits } from "../resumable/session.ts";
import type { Provider } from "../upstream/providers.ts";

/**
 * The gateway's settings, parsed and validated from the environment once per isolate by config.ts
 * (an edge). The exchange receives them as data and never reads the environment itself.
 */
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
