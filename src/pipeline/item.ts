import { SseDecoder } from "../sse/decoder.ts";
import type { SseEvent } from "../sse/types.ts";
import type { EventInfo } from "../upstream/format.ts";

/** One event travelling down the pipeline with what its format adapter read out of it (read once). */
export interface StreamItem {
  readonly ev: SseEvent;
  readonly info: EventInfo;
}

/** Turns frames the gateway writes itself (errors, guardrail endings) into pipeline items. */
export function gatewayItems(frames: string, info: EventInfo): StreamItem[] {
  const decoder = new SseDecoder();
  return [...decoder.push(frames), ...decoder.end()].map((ev) => ({ ev, info }));
}
