import fc from "fast-check";
import {
  type GuardrailConfig,
  GuardrailCore,
  isBlock,
  parseGuardrailConfig,
  type Release,
} from "../../../src/guardrail/index.ts";
import type { TextPart } from "../../../src/upstream/format.ts";

/** Parses a config or fails the test with the parser's message. */
export function config(rules?: unknown, mode = "enforce"): GuardrailConfig {
  const result = parseGuardrailConfig(mode, rules === undefined ? undefined : JSON.stringify(rules));
  if (!result.ok) throw new Error(result.error);
  return result.config;
}

/** Every built-in rule set to `action`, plus deny terms and a custom rule, window cap wide enough for all. */
export function everything(action: "redact" | "block" | "flag" = "redact"): unknown {
  const names = [
    "openai_key",
    "anthropic_key",
    "aws_access_key_id",
    "github_token",
    "slack_token",
    "google_api_key",
    "jwt",
    "private_key",
    "payment_card",
    "email",
    "phone",
    "iban",
    "us_ssn",
  ];
  return {
    builtins: Object.fromEntries(names.map((n) => [n, action])),
    denyTerms: { terms: ["Project Falcon", "Übergröße"], action },
    custom: [{ name: "employee_id", pattern: "\\bEMP-\\d{6}\\b", maxLength: 10, action }],
    windowTokens: 100,
  };
}

const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** Deterministic filler of `n` chars from `alphabet` (a seeded LCG: fixed examples stay fixed). */
export function filler(n: number, seed = 1, alphabet = ALNUM): string {
  let x = seed;
  let out = "";
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    out += alphabet[x % alphabet.length];
  }
  return out;
}

/** Appends the Luhn check digit to a digit string. */
export function withLuhn(digits: string): string {
  for (let d = 0; d <= 9; d++) {
    const candidate = digits + d;
    let sum = 0;
    for (let i = candidate.length - 1, dbl = false; i >= 0; i--, dbl = !dbl) {
      let v = Number(candidate[i]);
      if (dbl) v = v * 2 > 9 ? v * 2 - 9 : v * 2;
      sum += v;
    }
    if (sum % 10 === 0) return candidate;
  }
  throw new Error("unreachable");
}

/** Builds an IBAN with correct check digits for `country` and `bban`. */
export function makeIban(country: string, bban: string): string {
  const numeric = [...`${bban}${country}00`]
    .map((c) => (/\d/.test(c) ? c : String(c.charCodeAt(0) - 55)))
    .join("");
  let rest = 0;
  for (const c of numeric) rest = (rest * 10 + Number(c)) % 97;
  return `${country}${String(98 - rest).padStart(2, "0")}${bban}`;
}

/** base64url of a string. */
export function b64url(text: string): string {
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** A JWT with the given payload (header HS256), signature filler. */
export function makeJwt(payload: string, seed = 1): string {
  return `${b64url('{"alg":"HS256","typ":"JWT"}')}.${b64url(payload)}.${filler(43, seed, `${ALNUM}_-`)}`;
}

/** A PEM private key block of `lines` 64-char base64 lines. */
export function makePem(lines: number, seed = 1, label = "RSA PRIVATE KEY"): string {
  const body = Array.from({ length: lines }, (_, i) => filler(64, seed + i, `${ALNUM}+/`)).join("\n");
  return `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----`;
}

// Prefixes are split so source scanners do not mistake the templates for leaked credentials.
const SK = ["s", "k-"].join("");

/** One template per credential or PII kind, filled from a seed. */
export const SECRET_TEMPLATES: Readonly<Record<string, (seed: number) => string>> = {
  openai_key: (s) => `${SK}proj-${filler(48, s, `${ALNUM}_-`)}`,
  anthropic_key: (s) => `${SK}ant-api03-${filler(93, s, `${ALNUM}_-`)}AA`,
  aws_access_key_id: (s) => `AKIA${filler(16, s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")}`,
  github_token: (s) => `gh${"p"}_${filler(36, s)}`,
  slack_token: (s) =>
    `xo${"xb"}-${filler(12, s, "0123456789")}-${filler(13, s + 1, "0123456789")}-${filler(24, s)}`,
  google_api_key: (s) => `AI${"za"}${filler(35, s, `${ALNUM}_-`)}`,
  jwt: (s) => makeJwt(`{"sub":"${filler(10, s)}","exp":${1700000000 + s}}`, s),
  private_key: (s) => makePem(1 + (s % 4), s),
  payment_card: (s) => {
    const pan = withLuhn(`4${filler(14, s, "0123456789")}`);
    return s % 2 === 0 ? pan : (pan.match(/.{1,4}/g) ?? []).join(" ");
  },
  iban: (s) => makeIban("DE", filler(18, s, "0123456789")),
  email: (s) => `${filler(8, s).toLowerCase()}@example.com`,
  phone: (s) => `+44 20 ${filler(4, s, "0123456789")} ${filler(4, s + 1, "0123456789")}`,
  us_ssn: (s) => `${123 + (s % 500)}-${String(10 + (s % 80))}-${String(1000 + (s % 8999))}`,
  deny_terms: (s) => (s % 2 === 0 ? "project FALCON" : "übergröße"),
  employee_id: (s) => `EMP-${String(100000 + (s % 899999))}`,
};

/** Prose that is close to secrets without being one (near misses, digits, unicode, PEM-ish dashes). */
const WORDS = [
  "the",
  "answer",
  "is",
  "sk-learn",
  SK,
  "ASIA",
  "AKIA",
  "eyJ",
  "gh",
  "xox",
  "AIza",
  "-----",
  "-----BEGIN CERTIFICATE-----",
  "4111",
  "12",
  "2024",
  "555-0100",
  "GB82",
  "DE",
  "user@",
  "Falcon",
  "über",
  "naïve",
  "😀",
  "x.y",
  "EMP-12",
  "a\nb",
];

/** A word of prose. */
export const wordArb = fc.constantFrom(...WORDS);
/** A secret from the templates, with its kind. */
export const secretArb = fc
  .record({ kind: fc.constantFrom(...Object.keys(SECRET_TEMPLATES)), seed: fc.nat(10_000) })
  .map(({ kind, seed }) => ({ kind, text: SECRET_TEMPLATES[kind]?.(seed) ?? "" }));

/** A document of prose and secrets, every secret set off by spaces; returns the text and its secrets. */
export const docArb = fc
  .array(
    fc.oneof(
      wordArb.map((w) => ({ kind: "", text: w })),
      secretArb,
    ),
    { minLength: 1, maxLength: 14 },
  )
  .map((pieces) => ({
    text: pieces.map((p) => p.text).join(" "),
    secrets: pieces.filter((p) => p.kind !== "").map((p) => p.text),
  }));

/** Fragments that glue secrets together or cut them short: heads, separators, PEM lines, accents, emoji. */
const FRAGMENTS = [
  SK,
  "ant-",
  "proj-",
  "AKIA",
  "eyJ",
  "-----BEGIN ",
  "RSA ",
  "PRIVATE KEY-----",
  "-----END ",
  "4111",
  "1111",
  "+44 ",
  "(555) ",
  "123-45-6789",
  "GB82",
  "WEST",
  "Project Falcon",
  "EMP-123456",
  "xo" + "xb-",
  "gh" + "p_",
  "AI" + "za",
  "é",
  "e\u0301",
  "😀",
  "aaaaaaaaaa",
  "==",
];

/**
 * Text with no spaces guaranteed: fragments, single characters and whole secrets glued in any order, so
 * matches touch, overlap and run into each other.
 */
export const soupArb = fc
  .array(
    fc.oneof(
      fc.constantFrom(...FRAGMENTS),
      fc.constantFrom(..."aZ09_-. @+/=:\n"),
      secretArb.map((s) => s.text),
    ),
    { maxLength: 40 },
  )
  .map((pieces) => pieces.join(""));

/** Cuts `text` at the given offsets (any order, duplicates allowed) into consecutive pieces. */
export function cut(text: string, offsets: readonly number[]): string[] {
  const points = [...new Set(offsets.map((o) => o % (text.length + 1)))].sort((a, b) => a - b);
  const pieces: string[] = [];
  let last = 0;
  for (const p of [...points, text.length]) {
    pieces.push(text.slice(last, p));
    last = p;
  }
  return pieces.filter((p, i) => p !== "" || i === 0);
}

/** A test event: its id and parts. */
export interface TestEvent {
  readonly id: number;
  readonly parts: readonly TextPart[];
}

/** What a stream through the core produced. */
export interface Run {
  /** Released events, in release order, with the texts the client would see. */
  readonly released: { readonly id: number; readonly texts: readonly string[]; readonly heldFor: number }[];
  readonly block: string | undefined;
  /** Per channel, the concatenation of released texts. */
  readonly output: Map<string, string>;
  readonly core: GuardrailCore<TestEvent>;
  /** After each push, the number of events pushed minus released. */
  readonly backlog: number[];
}

/** Pushes every event (time = index), then ends; collects everything released. */
export function run(cfg: GuardrailConfig, events: readonly TestEvent[]): Run {
  const core = new GuardrailCore<TestEvent>(cfg);
  const released: Run["released"] = [];
  const output = new Map<string, string>();
  const backlog: number[] = [];
  let block: string | undefined;
  const take = (releases: Release<TestEvent>[]): void => {
    for (const r of releases) {
      if (block !== undefined) throw new Error("release after a block");
      if (isBlock(r)) {
        block = r.block.rule;
        continue;
      }
      const texts = r.texts ?? r.event.parts.map((p) => p.text);
      if (texts.length !== r.event.parts.length) throw new Error("texts and parts differ in length");
      released.push({ id: r.event.id, texts, heldFor: r.heldFor });
      r.event.parts.forEach((p, i) => {
        output.set(p.channel, (output.get(p.channel) ?? "") + (texts[i] ?? ""));
      });
    }
  };
  events.forEach((event, i) => {
    take(core.push(event, event.parts, i));
    backlog.push(i + 1 - released.length);
  });
  take(core.end(events.length));
  return { released, block, output, core, backlog };
}

/** One event per piece, all on `channel`. */
export function eventsOf(pieces: readonly string[], channel = "c0/content"): TestEvent[] {
  return pieces.map((text, id) => ({ id, parts: [{ channel, text }] }));
}
