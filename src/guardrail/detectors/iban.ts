import type { Detector, Span } from "../types.ts";
import { asciiTable, isAlnum, isDigit, isUpper } from "./text.ts";

/** IBAN length per country (ISO 13616 registry); a country not listed is not an IBAN. */
const LENGTHS: ReadonlyMap<string, number> = new Map(
  (
    "AD24 AE23 AL28 AT20 AZ28 BA20 BE16 BG22 BH22 BI27 BR29 BY28 CH21 CR22 CY28 CZ24 DE22 DJ27 DK18 DO28 " +
    "EE20 EG29 ES24 FI18 FK18 FO18 FR27 GB22 GE22 GI23 GL18 GR27 GT28 HR21 HU28 IE22 IL23 IQ23 IS26 IT27 " +
    "JO30 KW30 KZ20 LB28 LC32 LI21 LT20 LU20 LV21 LY25 MC27 MD24 ME22 MK19 MN20 MR27 MT31 MU30 NI28 NL18 " +
    "NO15 OM23 PK24 PL28 PS29 PT25 QA29 RO24 RS22 RU33 SA24 SC31 SD18 SE24 SI19 SK24 SM27 SO23 ST25 SV28 " +
    "TL23 TN24 TR26 UA29 VA22 VG24 XK20"
  )
    .split(" ")
    .map((entry) => [entry.slice(0, 2), Number(entry.slice(2))] as const),
);
const MAX_LENGTH = 34;
const SPACE = 32;

/** ISO 7064 mod 97-10 check of an IBAN without spaces: the rearranged number mod 97 must be 1. */
export function ibanChecksumValid(iban: string): boolean {
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let rest = 0;
  for (const ch of rearranged) {
    const code = ch.charCodeAt(0);
    const value = isDigit(code) ? code - 48 : code - 55;
    rest = (value > 9 ? rest * 100 + value : rest * 10 + value) % 97;
  }
  return rest === 1;
}

/**
 * End of the IBAN starting at `start`, or -1: country code, check digits, the country's BBAN length, optionally
 * printed in groups of four separated by single spaces, not followed by a letter or digit, mod-97 valid.
 */
function ibanAt(text: string, start: number): number {
  const length = LENGTHS.get(text.slice(start, start + 2));
  if (length === undefined) return -1;
  let compact = "";
  let i = start;
  while (compact.length < length) {
    const code = text.charCodeAt(i);
    if (isUpper(code) || isDigit(code)) {
      compact += text[i];
      i++;
    } else if (
      code === SPACE &&
      compact.length % 4 === 0 &&
      compact.length > 0 &&
      isAlnum(text.charCodeAt(i + 1))
    ) {
      i++;
    } else {
      return -1;
    }
  }
  if (isAlnum(text.charCodeAt(i))) return -1;
  if (!isDigit(compact.charCodeAt(2)) || !isDigit(compact.charCodeAt(3))) return -1;
  return ibanChecksumValid(compact) ? i : -1;
}

/** A possible IBAN start: two upper-case letters not glued to a preceding letter or digit. */
function startsIban(text: string, at: number): boolean {
  return isUpper(text.charCodeAt(at)) && !(at > 0 && isAlnum(text.charCodeAt(at - 1)));
}

/** International Bank Account Numbers, checked against the country length and the mod-97 checksum. */
export const IBAN: Detector = {
  // 34 characters and a space after each group of four.
  maxLength: MAX_LENGTH + 8,
  lookahead: 1,
  lookbehind: 1,
  inClass: asciiTable("A-Z0-9 "),
  starts: asciiTable("A-Z"),
  find(text: string, from: number): Span | undefined {
    for (let s = from; s < text.length; s++) {
      if (!startsIban(text, s)) continue;
      const end = ibanAt(text, s);
      if (end > 0) return { start: s, end };
    }
    return undefined;
  },
  viableAt(text: string, at: number): boolean {
    if (!startsIban(text, at)) return false;
    const country = text.slice(at, at + 2);
    if (country.length === 2 && !LENGTHS.has(country)) return false;
    for (let i = at + 2; i < Math.min(text.length, at + 4); i++)
      if (!isDigit(text.charCodeAt(i))) return false;
    return true;
  },
};
