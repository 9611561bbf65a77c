import type { SseEvent } from "./types.ts";

/** Fields of an event the gateway writes itself. */
export interface EventFields {
  readonly event?: string;
  readonly data: string;
  readonly id?: string;
}

// TextEncoder is stateless (UTF-8 only), so one instance serves every stream.
const TEXT_ENCODER = new TextEncoder();

// Any SSE line terminator: a value containing one would start a new line (a new field) on the wire.
const LINE_BREAK = /\r\n|\r|\n/;

/** UTF-8 bytes of `text`, using one shared TextEncoder. */
export function encodeText(text: string): Uint8Array {
  return TEXT_ENCODER.encode(text);
}

/**
 * A complete SSE block (`event:`, one `data:` line per line of `data`, `id:`, blank line).
 * Throws RangeError if `event` or `id` contains a line break, which would inject extra fields.
 */
export function formatEvent(fields: EventFields, newline: "\n" | "\r\n" = "\n"): string {
  let block = "";
  if (fields.event !== undefined) block += `event: ${singleLine("event", fields.event)}${newline}`;
  for (const line of fields.data.split(LINE_BREAK)) block += dataLine(line, newline);
  if (fields.id !== undefined) block += `id: ${checkedId(fields.id)}${newline}`;
  return block + newline;
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

/** An SSE comment block (`: text`, blank line): a keep-alive that clients ignore. */
export function comment(text: string, newline: "\n" | "\r\n" = "\n"): string {
  let block = "";
  for (const line of text.split(LINE_BREAK)) block += line === "" ? `:${newline}` : `: ${line}${newline}`;
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
