import type { Span } from "../types.ts";

/** A membership test for one UTF-16 code unit. */
export type CharTest = (code: number) => boolean;

/**
 * The table of an ASCII character class written like a regex class body (`A-Za-z0-9_-`; a `-` first or
 * last is literal): 1 for each member, 128 entries.
 */
export function asciiTable(spec: string): Uint8Array {
  const table = new Uint8Array(128);
  for (let i = 0; i < spec.length; i++) {
    const from = spec.charCodeAt(i);
    if (spec[i + 1] === "-" && i + 2 < spec.length) {
      const to = spec.charCodeAt(i + 2);
      for (let c = from; c <= to; c++) table[c] = 1;
      i += 2;
    } else {
      table[from] = 1;
    }
  }
  return table;
}

/**
 * Builds a test for an ASCII character class (see `asciiTable`). A lookup table, because detectors
 * call it per code unit on the hot path.
 */
export function asciiClass(spec: string): CharTest {
  const table = asciiTable(spec);
  return (code) => inTable(table, code);
}

/** Membership in an `asciiTable`: a code unit past ASCII is never in one. */
export function inTable(table: Uint8Array, code: number): boolean {
  return code < 128 && table[code] === 1;
}

/** ASCII digit. */
export const isDigit: CharTest = (code) => code >= 48 && code <= 57;

/** ASCII upper-case letter. */
export const isUpper: CharTest = (code) => code >= 65 && code <= 90;

/** ASCII letter or digit. */
export const isAlnum = asciiClass("A-Za-z0-9");

/** True for a UTF-16 high (leading) surrogate. */
export function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

/** True for a UTF-16 low (trailing) surrogate. */
export function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

/** True when `at` falls between the two halves of a surrogate pair (no code point starts there). */
export function splitsPair(text: string, at: number): boolean {
  return (
    at > 0 &&
    at < text.length &&
    isLowSurrogate(text.charCodeAt(at)) &&
    isHighSurrogate(text.charCodeAt(at - 1))
  );
}

/** Escapes a literal for use inside a regular expression. */
export function escapeRegExp(literal: string): string {
  // Only syntax characters and "/": under the `u` flag any other escaped character (e.g. "\\-") is a SyntaxError.
  return literal.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

/**
 * Leftmost non-empty match of a global regex at or after `from` that `accept` (a validator) takes; a rejected
 * candidate moves the search one position on, so each start is judged on its own.
 */
export function findWith(
  re: RegExp,
  text: string,
  from: number,
  accept?: (text: string, start: number, end: number) => boolean,
): Span | undefined {
  let at = from;
  while (at <= text.length) {
    re.lastIndex = at;
    const m = re.exec(text);
    if (m === null) return undefined;
    const start = m.index;
    const end = start + m[0].length;
    // With the `u` flag, a lastIndex inside a surrogate pair is moved back to the pair's start: never report a
    // start before the requested one (it was decided earlier), step past the pair instead.
    if (start < at) {
      at += 1;
      continue;
    }
    if (end > start && (accept === undefined || accept(text, start, end))) return { start, end };
    at = start + 1;
  }
  return undefined;
}

/** Whether `tail` is compatible with a literal head: a prefix of it, or starting with it. */
export function headCompatible(text: string, at: number, heads: readonly string[]): boolean {
  const available = text.length - at;
  for (const head of heads) {
    if (available >= head.length ? text.startsWith(head, at) : head.startsWith(text.slice(at))) return true;
  }
  return false;
}
