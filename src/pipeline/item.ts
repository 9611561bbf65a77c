import type { SseEvent } from "../sse/types.ts";
import type { EventInfo } from "../upstream/format.ts";

/** One event travelling down the pipeline with what its format adapter read out of it (read once). */
export interface StreamItem {
  readonly ev: SseEvent;
  readonly info: EventInfo;
}

/** Pipeline items for events the gateway writes itself (errors, guardrail endings), all with `info`. */
export function gatewayItems(events: readonly SseEvent[], info: EventInfo): StreamItem[] {
  return events.map((ev) => ({ ev, info }));
}
