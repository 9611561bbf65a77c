import type { Continuation, Detector, Span } from "../types.ts";
import { asciiTable, findWith, headCompatible, inTable } from "./text.ts";

/** How a credential token looks: a literal prefix, a confirming head, then a run of token characters. */
interface TokenSpec {
  /** Literal prefixes every match starts with (used to let non-matching text out of the window early). */
  readonly heads: readonly string[];
  /** Regex source of the confirmed head, including its minimum body (and a trailing boundary for exact tokens). */
  readonly head: string;
  /** Characters of the token (ASCII class body). */
  readonly chars: string;
  /** Characters that may not precede a token (default: `chars`), so a token never starts mid-word. */
  readonly anchor?: string;
  /** Longest head this spec's regex can match; also the longest chunk of a running token. */
  readonly maxLength: number;
  /**
   * True: the match runs on over token characters past the head, in chunks of `maxLength`, for as long as the
   * token goes on, so a key longer than any bound is still covered end to end. False: exact-length token.
   */
  readonly runs: boolean;
  readonly validate?: (text: string, start: number, end: number) => boolean;
}

/** Builds a run-anchored token detector (see `TokenSpec`). */
function tokenDetector(spec: TokenSpec): Detector {
  const inClass = asciiTable(spec.chars);
  const anchorSource = spec.anchor ?? spec.chars;
  const anchor = asciiTable(anchorSource);
  const re = new RegExp(`(?<![${anchorSource}])(?:${spec.head})`, "g");
  const max = spec.maxLength;
  // Every head is ASCII, so its first code unit fits the table.
  const starts = new Uint8Array(128);
  for (const head of spec.heads) starts[head.charCodeAt(0)] = 1;

  // Greedy run over token characters, at most one chunk long.
  const runFrom = (text: string, start: number, at: number): number => {
    let end = at;
    while (end < text.length && end - start < max && inTable(inClass, text.charCodeAt(end))) end++;
    return end;
  };

  const detector: Detector = {
    maxLength: max,
    // One code unit past the match: the run's end (or the exact token's trailing boundary) must be seen.
    lookahead: 1,
    lookbehind: 1,
    inClass,
    starts,
    find(text: string, from: number): Span | undefined {
      const m = findWith(re, text, from, spec.validate);
      if (m === undefined || !spec.runs) return m;
      return { start: m.start, end: runFrom(text, m.start, m.end) };
    },
    viableAt(text: string, at: number): boolean {
      if (!inTable(starts, text.charCodeAt(at)) || (at > 0 && inTable(anchor, text.charCodeAt(at - 1))))
        return false;
      return headCompatible(text, at, spec.heads);
    },
  };
  if (!spec.runs) return detector;
  return {
    ...detector,
    continueAt(text: string, at: number): Continuation | undefined {
      const end = runFrom(text, at, at);
      return end > at ? { end } : undefined;
    },
  };
}

const KEY_CHARS = "A-Za-z0-9_-";

/**
 * OpenAI API keys: `sk-`, `sk-proj-`, `sk-svcacct-`, `sk-admin-` followed by key characters. Confirmed after
 * 20 characters past `sk-` (so `sk-learn` is not a key); `sk-ant-` is Anthropic's and excluded here.
 */
export const OPENAI_KEY = tokenDetector({
  heads: ["sk-"],
  head: `sk-(?!ant-)[${KEY_CHARS}]{20}`,
  chars: KEY_CHARS,
  maxLength: 23,
  runs: true,
});

/** Anthropic API keys: `sk-ant-` (e.g. `sk-ant-api03-...`), confirmed after 20 characters past the prefix. */
export const ANTHROPIC_KEY = tokenDetector({
  heads: ["sk-ant-"],
  head: `sk-ant-[${KEY_CHARS}]{20}`,
  chars: KEY_CHARS,
  maxLength: 27,
  runs: true,
});

/** AWS access key IDs: `AKIA` (long-term) or `ASIA` (temporary) + exactly 16 upper-case letters/digits. */
export const AWS_ACCESS_KEY_ID = tokenDetector({
  heads: ["AKIA", "ASIA"],
  head: "(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])",
  chars: "A-Za-z0-9",
  maxLength: 20,
  runs: false,
});

/**
 * GitHub tokens: classic `ghp_`/`gho_`/`ghu_`/`ghs_`/`ghr_` + 36 characters, fine-grained `github_pat_` + 22
 * characters (then more); both run on while token characters follow.
 */
export const GITHUB_TOKEN = tokenDetector({
  heads: ["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"],
  head: "gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{22}",
  chars: "A-Za-z0-9_",
  maxLength: 40,
  runs: true,
});

/** Slack tokens: `xoxa-`, `xoxb-`, `xoxp-`, `xoxr-`, `xoxs-` + at least 10 token characters. */
export const SLACK_TOKEN = tokenDetector({
  heads: ["xoxa-", "xoxb-", "xoxp-", "xoxr-", "xoxs-"],
  head: "xox[abprs]-[A-Za-z0-9-]{10}",
  chars: "A-Za-z0-9-",
  maxLength: 15,
  runs: true,
});

/** Google API keys: `AIza` + exactly 35 key characters. */
export const GOOGLE_API_KEY = tokenDetector({
  heads: ["AIza"],
  head: `AIza[${KEY_CHARS}]{35}(?![${KEY_CHARS}])`,
  chars: KEY_CHARS,
  maxLength: 39,
  runs: false,
});

/** Longest JWT header segment recognised (base64url chars): 90 bytes of JSON, room for `alg`, `typ`, `kid`. */
const JWT_HEADER_MAX = 120;

/** True when `segment` is base64url of a JSON object with a string `alg`, as every JWS/JWE header has. */
function isJwtHeader(segment: string): boolean {
  try {
    const b64 = segment.replace(/-/g, "+").replace(/_/g, "/");
    const json: unknown = JSON.parse(atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4)));
    return typeof json === "object" && json !== null && typeof (json as { alg?: unknown }).alg === "string";
  } catch {
    return false;
  }
}

/**
 * JSON Web Tokens: three base64url segments, the header starting `eyJ` (`{"`). Confirmed once the header
 * (at most 120 chars) and its dot are seen and the header decodes to JSON with an `alg`; the payload and
 * signature then run on as part of the match, however long.
 */
export const JWT = tokenDetector({
  heads: ["eyJ"],
  head: `eyJ[A-Za-z0-9_-]{5,${JWT_HEADER_MAX - 3}}\\.`,
  chars: "A-Za-z0-9_.-",
  anchor: KEY_CHARS,
  maxLength: JWT_HEADER_MAX + 1,
  runs: true,
  validate: (text, start, end) => isJwtHeader(text.slice(start, end - 1)),
});
