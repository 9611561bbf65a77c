import type { Detector, Span } from "../types.ts";
import { asciiClass, asciiTable, findWith, inTable, isDigit } from "./text.ts";

const EMAIL_CHARS = "A-Za-z0-9._%+@-";
const EMAIL_TABLE = asciiTable(EMAIL_CHARS);
const inEmail = (code: number) => inTable(EMAIL_TABLE, code);
const LOCAL_TABLE = asciiTable("A-Za-z0-9._%+-");
const inLocal = (code: number) => inTable(LOCAL_TABLE, code);
const AT = 64;
/** RFC 5321 limits: local part at most 64 chars, domain at most 255. */
const LOCAL_MAX = 64;
const DOMAIN_MAX = 255;
const EMAIL_RE = new RegExp(
  `(?<![${EMAIL_CHARS}])[A-Za-z0-9._%+-]{1,${LOCAL_MAX}}@` +
    // The domain's whole run must end within 255 chars, which also bounds how far an attempt reads.
    `(?=[A-Za-z0-9.-]{4,${DOMAIN_MAX}}(?![A-Za-z0-9.-]))` +
    "(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.)+[A-Za-z]{2,63}(?![A-Za-z0-9-])",
  "g",
);

/** E-mail addresses (local part <= 64 chars, domain <= 255 chars, so a match is at most 320 chars). */
export const EMAIL: Detector = {
  maxLength: LOCAL_MAX + 1 + DOMAIN_MAX,
  lookahead: 1,
  lookbehind: 1,
  inClass: EMAIL_TABLE,
  starts: LOCAL_TABLE,
  find(text: string, from: number): Span | undefined {
    return findWith(EMAIL_RE, text, from);
  },
  viableAt(text: string, at: number): boolean {
    if (!inLocal(text.charCodeAt(at)) || (at > 0 && inEmail(text.charCodeAt(at - 1)))) return false;
    // An address needs its `@` within 65 chars of the start.
    const end = Math.min(text.length, at + LOCAL_MAX + 1);
    for (let i = at; i < end; i++) {
      const code = text.charCodeAt(i);
      if (code === AT) return true;
      if (!inLocal(code)) return false;
    }
    return end === text.length;
  },
};

/** A phone number's body, anchored; the boundaries and digit count are checked in code (see `PHONE`). */
const PHONE_BODY = new RegExp(
  "^(?:" +
    // International: +country code, then up to six groups (digit count checked below).
    "\\+[1-9]\\d{0,2}[ .-]?(?:\\(\\d{1,4}\\)[ .-]?)?\\d{1,4}(?:[ .-]?\\d{1,4}){1,5}" +
    // North American: (555) 123-4567, 555-123-4567, 555.123.4567, +1 555 123 4567 (separators required).
    "|(?:\\+?1[ .-]?)?(?:\\(\\d{3}\\)[ .-]?|\\d{3}[ .-])\\d{3}[ .-]\\d{4}" +
    ")",
);
const PHONE_START = /(?<![\w+])[0-9(+]/g;
const PHONE_MAX = 5 + 7 + 4 + 5 * 5;
const PHONE_FIRSTS = asciiTable("0-9(+");
const startsPhone = (code: number) => inTable(PHONE_FIRSTS, code);
const wordOrPlus = asciiClass("A-Za-z0-9_+");
const isWord = asciiClass("A-Za-z0-9_");

function phoneDigits(text: string, start: number, end: number): boolean {
  let n = 0;
  for (let i = start; i < end; i++) if (isDigit(text.charCodeAt(i))) n++;
  return text[start] === "+" ? n >= 8 && n <= 15 : n === 10 || n === 11;
}

/**
 * Longest phone number at `start`: the greedy body, then shorter ones, until one ends on a word boundary with
 * a plausible digit count (`+44 20 7946 0958 1234` still yields the number, not nothing). -1 if none.
 */
function phoneAt(text: string, start: number): number {
  let limit = Math.min(text.length, start + PHONE_MAX);
  while (limit > start) {
    const m = PHONE_BODY.exec(text.slice(start, limit));
    if (m === null) return -1;
    const end = start + m[0].length;
    if (!isWord(text.charCodeAt(end)) && phoneDigits(text, start, end)) return end;
    limit = end - 1;
  }
  return -1;
}

/**
 * Phone numbers: international `+...` numbers (8-15 digits) and separated North American numbers. A bare run of
 * ten digits is not flagged (too many order numbers and IDs look like that).
 */
export const PHONE: Detector = {
  // `+999 (9999) ` + six groups of four with separators.
  maxLength: PHONE_MAX,
  lookahead: 1,
  lookbehind: 1,
  inClass: asciiTable("0-9 .()+-"),
  starts: PHONE_FIRSTS,
  find(text: string, from: number): Span | undefined {
    for (
      let s = findWith(PHONE_START, text, from);
      s !== undefined;
      s = findWith(PHONE_START, text, s.start + 1)
    ) {
      const end = phoneAt(text, s.start);
      if (end > 0) return { start: s.start, end };
    }
    return undefined;
  },
  viableAt(text: string, at: number): boolean {
    return startsPhone(text.charCodeAt(at)) && !(at > 0 && wordOrPlus(text.charCodeAt(at - 1)));
  },
};

const SSN_RE = /(?<![\w-])(?!000|666|9)\d{3}([- ])(?!00)\d{2}\1(?!0000)\d{4}(?![\w-])/g;
const wordOrDash = asciiClass("A-Za-z0-9_-");

/**
 * US Social Security numbers written `123-45-6789` or `123 45 6789`, without the never-issued area numbers
 * (000, 666, 9xx), group 00 or serial 0000. Nine bare digits are not flagged.
 */
export const US_SSN: Detector = {
  maxLength: 11,
  lookahead: 1,
  lookbehind: 1,
  inClass: asciiTable("0-9 -"),
  starts: asciiTable("0-9"),
  find(text: string, from: number): Span | undefined {
    return findWith(SSN_RE, text, from);
  },
  viableAt(text: string, at: number): boolean {
    return isDigit(text.charCodeAt(at)) && !(at > 0 && wordOrDash(text.charCodeAt(at - 1)));
  },
};
