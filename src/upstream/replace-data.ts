import type { SseEvent } from "../sse/types.ts";

/**
 * Returns `ev` with its data replaced by `data` (one line: JSON has no raw newlines), keeping every
 * other line (event, id, comments) and the block's own line endings. Used only for events whose
 * text a stage changed, so the hot path never re-serializes untouched events.
 */
export function replaceData(ev: SseEvent, data: string): SseEvent {
  const nl = ev.newline;
  const lines = ev.raw.split(/\r\n|\r|\n/);
  const kept: string[] = [];
  let placed = false;
  for (const line of lines) {
    if (line === "") continue;
    if (line === "data" || line.startsWith("data:")) {
      if (!placed) kept.push(`data: ${data}`);
      placed = true;
      continue;
    }
    kept.push(line);
  }
  if (!placed) kept.push(`data: ${data}`);
  return { ...ev, raw: `${kept.join(nl)}${nl}${nl}`, data, hasData: true, terminated: true };
}
