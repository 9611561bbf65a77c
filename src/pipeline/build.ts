import { STREAM_OUTCOME } from "../protocol.ts";
import { SseDecodeStream } from "../sse/decode-stream.ts";
import type { SseEvent } from "../sse/types.ts";
import type { WireFormat } from "../upstream/format.ts";
import { EncodeStage } from "./encode-stage.ts";
import { InspectStage } from "./inspect-stage.ts";
import type { StreamItem } from "./item.ts";
import { safeSource } from "./safe-source.ts";
import type { StreamState } from "./stream-state.ts";

/** Everything one stream's pipeline is built from. Stages are plugged in; the chain itself never changes. */
export interface PipelineSpec {
  /** The upstream's SSE body. */
  readonly body: ReadableStream<Uint8Array>;
  /** The wire format the client receives (after any translation). */
  readonly format: WireFormat;
  readonly state: StreamState;
  /** Aborts the upstream request (client gone, guardrail block, cancel). */
  readonly abortUpstream: (reason: string) => void;
  /** Event-level stages before inspection, e.g. translating a provider's stream to OpenAI chunks. */
  readonly translate?: TransformStream<SseEvent, SseEvent>;
  /** Item-level stages after inspection, in order: guardrail, metrics, resumable store... */
  readonly stages?: readonly TransformStream<StreamItem, StreamItem>[];
}

/**
 * Builds the event stream: upstream bytes → SSE events → (translation) → inspection with an honest
 * end → (stages). Nothing is buffered: each stage forwards an event as soon as it has it.
 */
export function buildItems(spec: PipelineSpec): ReadableStream<StreamItem> {
  const { state } = spec;
  let events = safeSource(spec.body, state, () => {
    spec.abortUpstream("client disconnected");
    state.finish(STREAM_OUTCOME.cancelled);
  }).pipeThrough(new SseDecodeStream());
  if (spec.translate !== undefined) events = events.pipeThrough(spec.translate);
  let items = events.pipeThrough(new InspectStage(spec.format, state));
  for (const stage of spec.stages ?? []) items = items.pipeThrough(stage);
  return items;
}

/** The event stream encoded for a client connected directly (no resumable store in between). */
export function buildPipeline(spec: PipelineSpec): ReadableStream<Uint8Array> {
  return buildItems(spec).pipeThrough(new EncodeStage(spec.state));
}
