import { STREAM_OUTCOME } from "../protocol.ts";
import type { WireFormat } from "../upstream/format.ts";
import type { BodySource } from "./body-source.ts";
import { ItemEncoder } from "./encode-stage.ts";
import { Inspector } from "./inspector.ts";
import type { StreamItem } from "./item.ts";
import type { ItemStep } from "./steps.ts";
import type { StreamState } from "./stream-state.ts";
import type { Translation } from "./translation.ts";
import {
  type DrivenEvents,
  driveEvents,
  type Resumer,
  type SourceParts,
  type StreamWatch,
  upstreamBytes,
} from "./upstream-events.ts";

/** Everything one stream's pipeline is built from. Stages are plugged in; the chain itself never changes. */
export interface PipelineSpec {
  /** The upstream's SSE bytes (see body-source.ts). */
  readonly body: BodySource;
  /** The wire format the client receives (after any translation). */
  readonly format: WireFormat;
  readonly state: StreamState;
  /** Aborts the upstream request (client gone, guardrail block, cancel). */
  readonly abortUpstream: (reason: string) => void;
  /** Translation of a provider's stream into the client's format (OpenAI chunks), if they differ. */
  readonly translate?: Translation | undefined;
  /** Item-level steps after inspection, in order: the guardrail... */
  readonly steps?: readonly ItemStep[];
  /**
   * `MAX_EVENT_BYTES`: the longest upstream event the stream reads. It is counted in characters of
   * the decoded text (UTF-16 code units, each at least one UTF-8 byte), so no event within it in bytes
   * is refused; a longer one ends the stream with `upstream_event_too_large`.
   */
  readonly maxEventBytes: number;
  /** Keep-alive and stall limits (KEEPALIVE_MS, STREAM_IDLE_TIMEOUT_MS, FIRST_TOKEN_TIMEOUT_MS). */
  readonly watch?: StreamWatch | undefined;
  /** Continues an answer cut mid-stream from another attempt (see upstream-events.ts). */
  readonly resumer?: Resumer | undefined;
}

/**
 * Runs the pipeline (upstream bytes → SSE events → (translation) → inspection with an honest end →
 * (steps)) to its end, putting each item as soon as it is complete and no step holds it: for a stored
 * stream, whose session takes the items (see driveEvents).
 */
export function driveItems(spec: PipelineSpec, put: (item: StreamItem) => void): DrivenEvents {
  return driveEvents(sourceParts(spec), put);
}

/** The event stream encoded for a client connected directly (no resumable store in between). */
export function buildPipeline(spec: PipelineSpec): ReadableStream<Uint8Array> {
  return upstreamBytes(sourceParts(spec), new ItemEncoder(spec.state));
}

function sourceParts(spec: PipelineSpec): SourceParts {
  return {
    body: spec.body,
    format: spec.format,
    state: spec.state,
    inspector: new Inspector(spec.format, spec.state),
    translation: spec.translate,
    steps: spec.steps ?? [],
    maxEventLength: spec.maxEventBytes,
    watch: spec.watch,
    resumer: spec.resumer,
    abortUpstream: spec.abortUpstream,
    // The client went away: stop paying for tokens nobody reads.
    onCancel: () => {
      spec.abortUpstream("client disconnected");
      spec.state.finish(STREAM_OUTCOME.cancelled);
    },
  };
}
