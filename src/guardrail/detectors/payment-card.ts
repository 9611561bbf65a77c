import type { Detector, Span } from "../types.ts";
import { asciiTable, isDigit } from "./text.ts";

const MIN_DIGITS = 13;
const MAX_DIGITS = 19;
const SPACE = 32;
const DASH = 45;

/** Luhn (mod 10) check over a string of digits. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = digits.length - 1, double = false; i >= 0; i--, double = !double) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/**
 * End of the longest card number starting at `start`: 13-19 digits, a single space or dash allowed between
 * digits, Luhn-valid, not one repeated digit, and not followed by another digit. -1 if none. Trying every
 * length (not just the greedy one) keeps `4111 1111 1111 1111 05/27` a card.
 */
function longestCard(text: string, start: number): number {
  let digits = "";
  let best = -1;
  let i = start;
  while (i < text.length && digits.length < MAX_DIGITS) {
    const code = text.charCodeAt(i);
    if (isDigit(code)) {
      digits += text[i];
      i++;
      if (
        digits.length >= MIN_DIGITS &&
        !isDigit(text.charCodeAt(i)) &&
        luhnValid(digits) &&
        !/^(\d)\1*$/.test(digits)
      ) {
        best = i;
      }
    } else if ((code === SPACE || code === DASH) && isDigit(text.charCodeAt(i + 1))) {
      i++;
    } else {
      break;
    }
  }
  return best;
}

/** Payment card numbers (PAN), Luhn-checked so random digit runs are not flagged. */
export const PAYMENT_CARD: Detector = {
  // 19 digits and 18 separators.
  maxLength: MAX_DIGITS * 2 - 1,
  lookahead: 1,
  lookbehind: 1,
  inClass: asciiTable("0-9 -"),
  starts: asciiTable("0-9"),
  find(text: string, from: number): Span | undefined {
    for (let s = from; s < text.length; s++) {
      if (!isDigit(text.charCodeAt(s)) || (s > 0 && isDigit(text.charCodeAt(s - 1)))) continue;
      const end = longestCard(text, s);
      if (end > 0) return { start: s, end };
    }
    return undefined;
  },
  viableAt(text: string, at: number): boolean {
    return isDigit(text.charCodeAt(at)) && !(at > 0 && isDigit(text.charCodeAt(at - 1)));
  },
};
