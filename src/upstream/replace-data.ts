import type { SseEvent } from "../sse/types.ts";
import { isObject, type JsonObject, tryParse } from "./json.ts";

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

/** Walks a chunk's text slots in a fixed order, handing each one's setter to `visit`. */
export type TextVisitor = (
  chunk: JsonObject,
  visit: (channel: string, text: string, set: (text: string) => void) => void,
) => void;

/**
 * Re-encodes a JSON data event with its text slots replaced by `texts`, in the order `visitText` walks
 * them (the same order the format's `inspect` reported them in).
 */
export function rewriteTexts(ev: SseEvent, texts: readonly string[], visitText: TextVisitor): SseEvent {
  const chunk = tryParse(ev.data);
  if (!isObject(chunk)) return ev;
  let i = 0;
  visitText(chunk, (_channel, _text, set) => {
    const t = texts[i++];
    if (t !== undefined) set(t);
  });
  // replaceData keeps the block's own line endings (CRLF for Gemini).
  return replaceData(ev, JSON.stringify(chunk));
}
