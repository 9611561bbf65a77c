import type { MetricsSink } from "../analytics/sink.ts";
import type { StreamSlots } from "../quota/slots.ts";
import type { CircuitBreakers } from "./circuit.ts";
import type { GatewayConfig } from "./settings.ts";

/**
 * What an exchange needs from the runtime, handed in by the edge that runs it (a route, the stream
 * object), so that nothing below the edges reads the environment or its bindings.
 */
export interface ExchangeContext {
  readonly config: GatewayConfig;
  /** Where each stream's one data point goes. */
  readonly sink: MetricsSink;
  /** The principals' open-stream slots. */
  readonly slots: StreamSlots;
  /** Which targets are being skipped after repeated failures (this isolate's view). */
  readonly circuits: CircuitBreakers;
}

/** Where resumable streams live, for a route that may start one. */
export interface StreamHost {
  /** One Durable Object per stream. */
  readonly streams: DurableObjectNamespace;
  /** A resume token for the new stream (`x-resume-token`), when the caller needs one. */
  readonly resumeToken: (streamId: string) => Promise<string | undefined>;
}
