/**
 * Issue 5's scan throughput: the guardrail's pure core (`GuardrailCore`, configured by
 * `parseGuardrailConfig` exactly as the gateway is) fed a long synthetic answer in this process,
 * so the figure is the scanner's own cost per MB of streamed text, without sockets or workerd.
 * Node 22 and workerd run the same engine (V8); the absolute rate is this machine's.
 */
import { parseGuardrailConfig } from "../../src/guardrail/config.ts";
import { GuardrailCore } from "../../src/guardrail/scanner.ts";
import type { GuardrailMode } from "../../src/guardrail/types.ts";
import type { TextPart } from "../../src/upstream/format.ts";
import { random } from "../random.ts";
import type { BenchContext, Row, Scenario } from "../scenario.ts";
import { median } from "../stats.ts";

/** How the scan scenario is run. */
export interface ScanOptions {
  readonly id: string;
  readonly title: string;
  /** `GUARDRAIL_RULES` as the gateway targets get it. */
  readonly rules: string;
  /** Which column shows each mode's figure (the gateway target running in that mode). */
  readonly columns: Readonly<Record<GuardrailMode, string>>;
  /** Size of the synthetic answer, in chars (ASCII, so also bytes). */
  readonly corpusChars: number;
  /** How the answer is cut into events: token-sized deltas, and bulk parts. */
  readonly splits: readonly {
    readonly label: string;
    readonly minChars: number;
    readonly maxChars: number;
  }[];
  /** Timed passes per mode and split after one warm-up pass; the median is reported. */
  readonly repeats: number;
}

const WORDS = (
  "the a of to and in is it for on with as that this be are was by at from or an model answer " +
  "stream token window gateway request response delta event text value result data user system " +
  "function return error case example note first second next then when which would could should " +
  "2024 2025 15 42 100 3.5 10:30 v1.2 #7 (see above) e.g. i.e. code: `x = y + 1` — “quoted” café"
).split(" ");

/**
 * Things every built-in rule exists for (valid checksums where a rule checks one), one of them
 * every ~2,000 chars: an answer that trips the rules now and then, as a leaking one would.
 */
const FINDINGS = [
  "jane.doe@example.com",
  "+1 415-555-0132",
  "4111 1111 1111 1111",
  "GB82 WEST 1234 5698 7654 32",
  "078-05-1120",
  `sk-proj-${"Ab3dE5gH7jK9mN1pQ3sT5vW7yZ".repeat(2)}`,
  `sk-ant-api03-${"Xy9Wv8Ut7Sr6Qp5On4Ml3Kj2Ih1Gf0".repeat(3)}-AA`,
  "AKIAIOSFODNN7EXAMPLE",
  `ghp_${"aB1cD2eF3gH4iJ5kL6mN7oP8qR9sT0uV1wX2"}`,
  "xoxb-1234567890-1234567890123-abcdefghijklmnopqrstuvwx",
  "AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q",
  "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
  "-----BEGIN PRIVATE KEY-----\nMIIBVgIBADANBgkqhkiG9w0BAQEFAASCAUAwggE8AgEAAkEAq7BFUpkGp3+XQ\n-----END PRIVATE KEY-----",
];

/** Prose with a finding every ~2,000 chars. */
function corpus(chars: number): string {
  const next = random(1);
  const out: string[] = [];
  let length = 0;
  let sinceFinding = 0;
  while (length < chars) {
    const w =
      sinceFinding > 2000
        ? (FINDINGS[Math.floor(next() * FINDINGS.length)] ?? "")
        : (WORDS[Math.floor(next() * WORDS.length)] ?? "");
    sinceFinding = sinceFinding > 2000 ? 0 : sinceFinding + w.length + 1;
    const piece = next() < 0.05 ? `${w}.\n` : `${w} `;
    out.push(piece);
    length += piece.length;
  }
  return out.join("").slice(0, chars);
}

/** Cuts text into pieces of minChars..maxChars (never inside a surrogate pair: the text is BMP). */
function cut(text: string, minChars: number, maxChars: number): string[] {
  const next = random(2);
  const pieces: string[] = [];
  for (let i = 0; i < text.length; ) {
    const n = minChars + Math.floor(next() * (maxChars - minChars + 1));
    pieces.push(text.slice(i, i + n));
    i += n;
  }
  return pieces;
}

const CHANNEL = "c0/content";

/** One pass: every piece pushed as one event, then the end; returns ms and what the core reported. */
function scan(
  mode: GuardrailMode,
  rules: string,
  pieces: readonly string[],
): { ms: number; verdicts: number; released: number; searchedChars: number } {
  const parsed = parseGuardrailConfig(mode, rules);
  if (!parsed.ok) throw new Error(`bench: ${parsed.error}`);
  const core = new GuardrailCore<number>(parsed.config);
  const parts: TextPart[] = [{ channel: CHANNEL, text: "" }];
  let released = 0;
  const t0 = performance.now();
  for (const [i, text] of pieces.entries()) {
    parts[0] = { channel: CHANNEL, text };
    released += core.push(i, parts, 0).length;
  }
  released += core.end(0).length;
  const ms = performance.now() - t0;
  return { ms, verdicts: core.verdicts.length, released, searchedChars: core.stats.searchedChars };
}

/** MB/s (10^6 bytes of text per second) of the pure scanner per mode, one row per way of cutting the text. */
export function scanThroughputScenario(opts: ScanOptions): Scenario {
  return {
    id: opts.id,
    title: opts.title,
    async run(ctx: BenchContext) {
      const text = corpus(opts.corpusChars);
      const bytes = Buffer.byteLength(text, "utf8");
      const rows: Row[] = [];
      const detail: Record<string, unknown> = { corpusBytes: bytes, rules: opts.rules || "(defaults)" };
      for (const split of opts.splits) {
        const pieces = cut(text, split.minChars, split.maxChars);
        const values: Record<string, number> = {};
        let searched = Number.NaN;
        for (const mode of ["off", "observe", "enforce"] as const) {
          const passes = [scan(mode, opts.rules, pieces)];
          for (let i = 0; i < opts.repeats; i += 1) passes.push(scan(mode, opts.rules, pieces));
          const timed = passes.slice(1);
          if (mode === "enforce") searched = (timed[0]?.searchedChars ?? Number.NaN) / text.length;
          values[opts.columns[mode]] = bytes / 1e6 / (median(timed.map((p) => p.ms)) / 1000);
          detail[`${split.label}/${mode}`] = { events: pieces.length, passes: timed };
          ctx.log(`  ${split.label}, ${mode}: ${values[opts.columns[mode]]?.toFixed(1)} MB/s`);
        }
        rows.push({
          metric: `scan, ${split.label} (median of ${opts.repeats})`,
          unit: "MB/s",
          values,
          note: `${pieces.length.toLocaleString("en-US")} events; ${searched.toFixed(1)} chars searched per char (linear)`,
        });
      }
      return { rows, detail };
    },
  };
}
