import type { SseEvent } from "../sse/types.ts";

/**
 * `isWhole` for a JSON wire format: an event cut off at EOF is whole when its data parses as JSON or
 * is one of the format's non-JSON sentinels (`[DONE]`). A cut inside the JSON never parses. A block
 * with neither data nor an event name (comments, a bare error body Google writes into the stream)
 * dispatches nothing in any client, so it is whole too: the inspector still reads the error in it.
 */
export function wholeJsonEvent(sentinels: readonly string[] = []): (ev: SseEvent) => boolean {
  return (ev) => {
    if (!ev.hasData) return ev.event === undefined;
    if (sentinels.includes(ev.data)) return true;
    try {
      JSON.parse(ev.data);
      return true;
    } catch {
      return false;
    }
  };
}
