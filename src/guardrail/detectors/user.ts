import type { Detector, Span } from "../types.ts";
import { escapeRegExp, findWith, isHighSurrogate, splitsPair } from "./text.ts";

/** Letters, combining marks, digits and `_`: what a whole-word deny term may not touch on either side. */
const WORD = "[\\p{L}\\p{M}\\p{N}_]";
const WORD_RE = new RegExp(`^${WORD}$`, "u");
/** One code point of lookaround is at most two UTF-16 code units. */
const CODE_POINT = 2;

/** The forms a term is matched in: as written, and its NFC and NFD normalisations (`é` vs `e` + `◌́`). */
export function termForms(term: string): string[] {
  return [...new Set([term, term.normalize("NFC"), term.normalize("NFD")])];
}

/** Regex source matching any non-empty prefix of `form`, code point by code point. */
function prefixSource(form: string): string {
  return [...form].reduceRight((rest, cp) => `${escapeRegExp(cp)}${rest === "" ? "" : `(?:${rest})?`}`, "");
}

function wordBefore(text: string, at: number): boolean {
  if (at === 0) return false;
  const cp = text.codePointAt(splitsPair(text, at - 1) ? at - 2 : at - 1);
  return cp !== undefined && WORD_RE.test(String.fromCodePoint(cp));
}

/**
 * User deny terms: case-insensitive with Unicode simple case folding (the `iu` regex flags, which never change
 * a match's length in code units), in NFC and NFD forms, optionally whole words only.
 */
export function denyTermsDetector(terms: readonly string[], wholeWord: boolean): Detector {
  const forms = terms.flatMap(termForms).sort((a, b) => b.length - a.length);
  const before = wholeWord ? `(?<!${WORD})` : "";
  const after = wholeWord ? `(?!${WORD})` : "";
  const re = new RegExp(`${before}(?:${forms.map(escapeRegExp).join("|")})${after}`, "giu");
  const prefix = new RegExp(`^(?:${forms.map(prefixSource).join("|")})$`, "iu");
  return {
    maxLength: Math.max(...forms.map((form) => form.length)),
    lookahead: wholeWord ? CODE_POINT : 0,
    lookbehind: CODE_POINT,
    find(text: string, from: number): Span | undefined {
      return findWith(re, text, from);
    },
    viableAt(text: string, at: number): boolean {
      if (wholeWord && wordBefore(text, at)) return false;
      // A trailing lone high surrogate is half a character: judge the text without it (conservative).
      const end = isHighSurrogate(text.charCodeAt(text.length - 1)) ? text.length - 1 : text.length;
      return at >= end || prefix.test(text.slice(at, end));
    },
  };
}

/** Lookbehind a custom pattern may use: this much text is kept before an undecided start. */
export const CUSTOM_LOOKBEHIND = 16;
/** Lookahead a custom pattern may use past its match (`\b`, `(?!\w)`, one astral char), waited for. */
export const CUSTOM_LOOKAHEAD = 2;

/**
 * A user regular expression with a declared maximum match length. A longer match (the declaration was wrong) is
 * cut to `maxLength`, so the window bound stays true.
 */
export function customDetector(re: RegExp, maxLength: number): Detector {
  return {
    maxLength,
    lookahead: CUSTOM_LOOKAHEAD,
    lookbehind: CUSTOM_LOOKBEHIND,
    find(text: string, from: number): Span | undefined {
      const m = findWith(re, text, from);
      return m === undefined ? undefined : { start: m.start, end: Math.min(m.end, m.start + maxLength) };
    },
  };
}
