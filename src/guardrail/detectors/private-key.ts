import type { Continuation, Detector, Span } from "../types.ts";
import { asciiTable, findWith, headCompatible, inTable } from "./text.ts";

const BEGIN = "-----BEGIN ";
/** Up to three words before `PRIVATE KEY` (`RSA`, `EC`, `OPENSSH`, `ENCRYPTED`...), and PGP's `BLOCK`. */
const LABEL = "(?:[A-Z0-9]{1,10} ){0,3}PRIVATE KEY(?: BLOCK)?-----";
const HEAD_RE = new RegExp(`-----BEGIN ${LABEL}`, "g");
const END_RE = new RegExp(`-----END ${LABEL}`, "y");
/** Longest `-----BEGIN ...-----` and `-----END ...-----` lines the patterns above accept. */
const HEAD_MAX = 11 + 33 + 17 + 5;
const END_MAX = 9 + 33 + 17 + 5;
/** Body chunk: one base64 line of a PEM file is 64 chars. */
const CHUNK = 64;
/**
 * The whole block is capped at 16 KiB (an RSA-8192 key is about 6.4 KiB): past it, a block that never printed
 * its `END` line stops being redacted rather than swallowing the rest of the answer.
 */
export const PRIVATE_KEY_BLOCK_CAP = 16_384;

/**
 * Base64 body, line breaks, and the `Proc-Type:`/`DEK-Info:` headers of legacy encrypted keys. The backslash
 * admits line breaks written as `\n` inside JSON strings (tool-call arguments, code in a string), which
 * would otherwise end the match after the BEGIN line and let the body through.
 */
const BODY = asciiTable("A-Za-z0-9+/= \t\r\n:,\\-");
const DASH = 45;

/**
 * PEM private key blocks: the match starts at a `-----BEGIN ... PRIVATE KEY-----` line (held until complete)
 * and runs on over the body in 64-char chunks through the `-----END ...-----` line, so a key of any size is
 * redacted as one block without holding the whole block back.
 */
export const PRIVATE_KEY: Detector = {
  // A chunk may end with an END line that starts on its last char.
  maxLength: Math.max(HEAD_MAX, CHUNK + END_MAX),
  lookahead: 1,
  lookbehind: 0,
  inClass: BODY,
  starts: asciiTable("-"),
  find(text: string, from: number): Span | undefined {
    return findWith(HEAD_RE, text, from);
  },
  viableAt(text: string, at: number): boolean {
    if (!headCompatible(text, at, [BEGIN])) return false;
    // Past the prefix only upper-case words, spaces and the closing dashes can follow; five dashes close it.
    const rest = text.slice(at + BEGIN.length, at + HEAD_MAX);
    return /^[A-Z0-9 ]{0,55}-{0,4}$/.test(rest);
  },
  continueAt(text: string, at: number, soFar: number): Continuation | undefined {
    if (soFar >= PRIVATE_KEY_BLOCK_CAP) return undefined;
    const limit = Math.min(text.length, at + CHUNK);
    let end = at;
    while (end < limit) {
      const code = text.charCodeAt(end);
      if (code === DASH) {
        END_RE.lastIndex = end;
        const m = END_RE.exec(text);
        if (m !== null) return { end: end + m[0].length, terminal: true };
      }
      if (!inTable(BODY, code)) break;
      end++;
    }
    return end > at ? { end } : undefined;
  },
};
