import { STREAM_OUTCOME } from "../protocol.ts";
import type { WireFormat } from "../upstream/format.ts";
import { EncodeStage, ItemEncoder } from "./encode-stage.ts";
import { Inspector } from "./inspector.ts";
import type { StreamItem } from "./item.ts";
import type { StreamState } from "./stream-state.ts";
import type { Translation } from "./translation.ts";
import { upstreamBytes, upstreamEvents } from "./upstream-events.ts";

/** Everything one stream's pipeline is built from. Stages are plugged in; the chain itself never changes. */
export interface PipelineSpec {
  /** The upstream's SSE body. */
  readonly body: ReadableStream<Uint8Array>;
  /** The wire format the client receives (after any translation). */
  readonly format: WireFormat;
  readonly state: StreamState;
  /** Aborts the upstream request (client gone, guardrail block, cancel). */
  readonly abortUpstream: (reason: string) => void;
  /** Translation of a provider's stream into the client's format (OpenAI chunks), if they differ. */
  readonly translate?: Translation | undefined;
  /** Item-level stages after inspection, in order: the guardrail... */
  readonly stages?: readonly TransformStream<StreamItem, StreamItem>[];
}

/**
 * Builds the event stream: upstream bytes → SSE events → (translation) → inspection with an honest
 * end (one fused step, see upstreamEvents) → (stages). Nothing is buffered: each stage forwards an
 * event as soon as it has it.
 */
export function buildItems(spec: PipelineSpec): ReadableStream<StreamItem> {
  let items = upstreamEvents(spec.body, spec.state, inspectorFor(spec), spec.translate, cancelFor(spec));
  for (const stage of spec.stages ?? []) items = items.pipeThrough(stage);
  return items;
}

/**
 * The event stream encoded for a client connected directly (no resumable store in between). Without
 * item stages the encoding is fused into the source: one runtime stream instead of two.
 */
export function buildPipeline(spec: PipelineSpec): ReadableStream<Uint8Array> {
  if ((spec.stages ?? []).length === 0) {
    const encoder = new ItemEncoder(spec.state);
    return upstreamBytes(spec.body, spec.state, inspectorFor(spec), spec.translate, cancelFor(spec), encoder);
  }
  return buildItems(spec).pipeThrough(new EncodeStage(spec.state));
}

function inspectorFor(spec: PipelineSpec): Inspector {
  return new Inspector(spec.format, spec.state);
}

/** The client went away: stop paying for tokens nobody reads. */
function cancelFor(spec: PipelineSpec): () => void {
  return () => {
    spec.abortUpstream("client disconnected");
    spec.state.finish(STREAM_OUTCOME.cancelled);
  };
}
