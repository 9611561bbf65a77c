import type { SseEvent } from "./types.ts";

/** Fields of an event the gateway writes itself. */
export interface EventFields {
  readonly event?: string;
  readonly data: string;
  readonly id?: string;
}

// Any SSE line terminator: a value containing one would start a new line (a new field) on the wire.
const LINE_BREAK = /\r\n|\r|\n/;

// One or more comment lines and the blank line, all LF or all CRLF.
const COMMENT_BLOCK = /^(?:(?::[^\r\n]*\n)+\n|(?::[^\r\n]*\r\n)+\r\n)$/;

// Shared by every event the gateway writes: they have no stray lines.
const NO_STRAY_LINES: readonly string[] = Object.freeze([]);

/**
 * A complete SSE block (`event:`, one `data:` line per line of `data`, `id:`, blank line).
 * Throws RangeError if `event` or `id` contains a line break, which would inject extra fields.
 */
export function formatEvent(fields: EventFields, newline: "\n" | "\r\n" = "\n"): string {
  return writeBlock(fields, linesOf(fields.data), newline);
}

/**
 * `ev.raw` with an `id:` line added as its last field, before the blank line, so it wins over any
 * upstream id; every other byte is kept. An unterminated block also gets its blank line.
 */
export function withId(ev: SseEvent, id: string): string {
  const line = `id: ${checkedId(id)}${ev.newline}`;
  const raw = ev.raw;
  if (!ev.terminated) {
    // The last line may lack a terminator (EOF mid-line): end it before adding ours.
    const last = raw.charCodeAt(raw.length - 1);
    const open = last !== 0x0a && last !== 0x0d;
    return `${raw}${open ? ev.newline : ""}${line}${ev.newline}`;
  }
  // The blank line is the final terminator; a trailing CRLF is always one terminator, because
  // the decoder never ends a block with a CR whose LF it has not seen.
  const cut = raw.length - (raw.endsWith("\r\n") ? 2 : 1);
  return raw.slice(0, cut) + line + raw.slice(cut);
}

/**
 * The event the gateway writes itself (an in-band error, a guardrail ending): `raw` is exactly
 * `formatEvent(fields, newline)` and the other fields are what SseDecoder reads back from it, so the
 * pipeline can carry the event without decoding text it has just written.
 */
export function sseEvent(fields: EventFields, newline: "\n" | "\r\n" = "\n"): SseEvent {
  const lines = linesOf(fields.data);
  return {
    raw: writeBlock(fields, lines, newline),
    event: fields.event,
    // A reader joins the data lines with LF, whatever terminated them in `fields.data`.
    data: lines.length === 1 ? fields.data : lines.join("\n"),
    hasData: true,
    id: fields.id,
    strayLines: NO_STRAY_LINES,
    newline,
    terminated: true,
  };
}

/**
 * A comment block the gateway wrote (`: ...` lines, then the blank line: the timings comment) as an
 * event: it dispatches nothing, so every parsed field is empty. Throws RangeError for any other text.
 */
export function commentEvent(raw: string): SseEvent {
  if (!COMMENT_BLOCK.test(raw)) throw new RangeError("not one SSE comment block");
  return {
    raw,
    event: undefined,
    data: "",
    hasData: false,
    id: undefined,
    strayLines: NO_STRAY_LINES,
    newline: raw.endsWith("\r\n") ? "\r\n" : "\n",
    terminated: true,
  };
}

/** The lines of a data value; most values (every JSON payload) are one, found without a split. */
function linesOf(data: string): readonly string[] {
  return LINE_BREAK.test(data) ? data.split(LINE_BREAK) : [data];
}

function writeBlock(fields: EventFields, lines: readonly string[], newline: string): string {
  let block = "";
  if (fields.event !== undefined) block += `event: ${singleLine("event", fields.event)}${newline}`;
  for (const line of lines) block += dataLine(line, newline);
  if (fields.id !== undefined) block += `id: ${checkedId(fields.id)}${newline}`;
  return block + newline;
}

function dataLine(line: string, newline: string): string {
  // One space after the colon is stripped by readers, so a value's own leading space survives.
  return line === "" ? `data:${newline}` : `data: ${line}${newline}`;
}

function singleLine(field: string, value: string): string {
  if (LINE_BREAK.test(value)) throw new RangeError(`SSE ${field} must not contain a line break`);
  return value;
}

function checkedId(id: string): string {
  // Spec: readers ignore an id containing NULL, so writing one would silently break resumption.
  if (id.includes("\0")) throw new RangeError("SSE id must not contain NULL");
  return singleLine("id", id);
}
