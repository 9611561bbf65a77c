import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LAG_CHARS } from "../../../src/guardrail/channel.ts";
import { type GuardrailConfig, GuardrailCore, scanText, type Verdict } from "../../../src/guardrail/index.ts";
import type { TextPart } from "../../../src/upstream/format.ts";
import "./fc-config.ts";
import {
  config,
  cut,
  docArb,
  eventsOf,
  everything,
  run,
  SECRET_TEMPLATES,
  soupArb,
  type TestEvent,
} from "./support.ts";

const DEFAULTS = config();
const ALL_REDACT = config(everything("redact"));
const CONFIGS: [string, GuardrailConfig][] = [
  ["default rules", DEFAULTS],
  ["every rule redacting", ALL_REDACT],
];

/** A document holding one of every secret kind, set in prose. */
const EVERY_KIND = Object.values(SECRET_TEMPLATES)
  .map((template, i) => `item ${i}: ${template(i + 3)} ok`)
  .join("\n");

/** Matches a config redacts (or blocks) in `text`, by the whole-text reference. */
function protectedSpans(cfg: GuardrailConfig, text: string): Verdict[] {
  const held = new Set(cfg.rules.filter((r) => r.action !== "flag").map((r) => r.name));
  return scanText(cfg, text, "ref").verdicts.filter((v) => held.has(v.rule));
}

/** Secrets a config redacts (or blocks) in `text`, by the whole-text reference. */
function protectedTexts(cfg: GuardrailConfig, text: string): string[] {
  return protectedSpans(cfg, text).map((v) => text.slice(v.start, v.end));
}

/** Occurrences of `needle` in `haystack`, overlapping ones included. */
function occurrences(haystack: string, needle: string): number {
  let n = 0;
  for (let i = haystack.indexOf(needle); i >= 0; i = haystack.indexOf(needle, i + 1)) n++;
  return n;
}

/**
 * Protected secrets that `output` shows more often than `text` shows them outside every protected match. Plain
 * absence is too strict: the same chars may stand elsewhere where no rule matches them (`EMP-123456` glued to
 * `sk` fails the rule's `\b`). Protected chars are blanked with NUL, and no secret here contains NUL or a mask's
 * `[`, so an occurrence left in the blanked text is one the output may rightly keep.
 */
function leakedSecrets(cfg: GuardrailConfig, text: string, output: string): string[] {
  const spans = protectedSpans(cfg, text);
  // By code unit, as verdict offsets are (spreading by code point would shift them).
  const units = text.split("");
  for (const v of spans) units.fill("\0", v.start, v.end);
  const rest = units.join("");
  const secrets = new Set(spans.map((v) => text.slice(v.start, v.end)));
  return [...secrets].filter((secret) => occurrences(output, secret) > occurrences(rest, secret));
}

/** Verdicts in a canonical order (the core reports them as they are decided). */
function sorted(verdicts: readonly Verdict[]): Verdict[] {
  return [...verdicts].sort((a, b) => a.start - b.start || a.rule.localeCompare(b.rule));
}

/** Checks one finished, unblocked run against the whole-text reference of each channel. */
function expectGuarantee(
  cfg: GuardrailConfig,
  events: readonly TestEvent[],
  texts: ReadonlyMap<string, string>,
) {
  const result = run(cfg, events);
  expect(result.block).toBeUndefined();
  // Every event comes out exactly once, in arrival order, text-less ones included.
  expect(result.released.map((r) => r.id)).toEqual(events.map((e) => e.id));
  for (const [channel, text] of texts) {
    const output = result.output.get(channel) ?? "";
    expect(output).toBe(scanText(cfg, text, channel).redacted);
    expect(leakedSecrets(cfg, text, output)).toEqual([]);
  }
  expect(result.core.stats.maxUndecidedChars).toBeLessThanOrEqual(cfg.window.chars);
  return result;
}

describe("enforce: no character of a redacted match is released, however the text is split", () => {
  for (const [name, cfg] of CONFIGS) {
    it(`${name}: splitting a document with every kind of secret at each single boundary`, () => {
      expect(protectedTexts(cfg, EVERY_KIND).length).toBeGreaterThanOrEqual(9);
      for (let k = 0; k <= EVERY_KIND.length; k++) {
        const events = eventsOf([EVERY_KIND.slice(0, k), EVERY_KIND.slice(k)]);
        expectGuarantee(cfg, events, new Map([["c0/content", EVERY_KIND]]));
      }
    });

    it(`${name}: one char per event`, () => {
      const result = expectGuarantee(cfg, eventsOf([...EVERY_KIND]), new Map([["c0/content", EVERY_KIND]]));
      // One char per event on one channel: the events held back are exactly the undecided chars.
      expect(Math.max(...result.backlog)).toBeLessThanOrEqual(cfg.window.chars);
    });

    it(`${name}: random documents split at random boundaries`, () => {
      fc.assert(
        fc.property(docArb, fc.array(fc.nat(), { maxLength: 40 }), (doc, cuts) => {
          expectGuarantee(cfg, eventsOf(cut(doc.text, cuts)), new Map([["c0/content", doc.text]]));
          const output = run(cfg, eventsOf(cut(doc.text, cuts))).output.get("c0/content") ?? "";
          for (const secret of doc.secrets) {
            if (protectedTexts(cfg, secret).length > 0) expect(output.includes(secret)).toBe(false);
          }
        }),
        { numRuns: 150 },
      );
    });

    it(`${name}: secrets glued to each other and to near misses, split at random boundaries`, () => {
      fc.assert(
        fc.property(soupArb, fc.array(fc.nat(), { maxLength: 40 }), (text, cuts) => {
          expectGuarantee(cfg, eventsOf(cut(text, cuts)), new Map([["c0/content", text]]));
        }),
        { numRuns: 400 },
      );
    });

    it(`${name}: random documents one char per event`, () => {
      fc.assert(
        fc.property(docArb, (doc) => {
          expectGuarantee(cfg, eventsOf([...doc.text]), new Map([["c0/content", doc.text]]));
        }),
        { numRuns: 40 },
      );
    });
  }

  it("channels interleaved in any order stay independent, and text-less events keep their place", () => {
    // Schedule: 0 = next piece of channel A, 1 = of B, 2 = an event without text, 3 = A and B in one event.
    const scheduleArb = fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 80 });
    const cutsArb = fc.array(fc.nat(), { maxLength: 30 });
    fc.assert(
      fc.property(docArb, docArb, cutsArb, cutsArb, scheduleArb, (a, b, cutsA, cutsB, schedule) => {
        const pieces = { a: cut(a.text, cutsA), b: cut(b.text, cutsB) };
        const events: TestEvent[] = [];
        const take = (which: "a" | "b", channel: string): TextPart[] => {
          const text = pieces[which].shift();
          return text === undefined ? [] : [{ channel, text }];
        };
        const add = (parts: TextPart[]) => events.push({ id: events.length, parts });
        for (const step of schedule) {
          if (step === 0) add(take("a", "c0/content"));
          else if (step === 1) add(take("b", "c0/tool0/args"));
          else if (step === 2) add([]);
          else add([...take("a", "c0/content"), ...take("b", "c0/tool0/args")]);
        }
        while (pieces.a.length > 0 || pieces.b.length > 0) {
          add([...take("b", "c0/tool0/args"), ...take("a", "c0/content")]);
        }
        const texts = new Map([
          ["c0/content", a.text],
          ["c0/tool0/args", b.text],
        ]);
        expectGuarantee(ALL_REDACT, events, texts);
      }),
      { numRuns: 150 },
    );
  });
});

describe("enforce: regressions found by the property tests", () => {
  /**
   * Seed 590072889: the second `EMP-123456` is glued to `sk` (no `\b` after it) and the key after it is glued
   * to a digit (tokens never start mid-word), so only the first id is a match; the same chars left as text
   * elsewhere are not a leak.
   */
  const GLUED = `EMP-123456:EMP-123456${["s", "k-"].join("")}proj-5_${"A".repeat(46)}`;

  for (const [name, cfg] of CONFIGS) {
    it(`${name}: an id glued to a key head, whole and split at every boundary and per char`, () => {
      const texts = new Map([["c0/content", GLUED]]);
      expectGuarantee(cfg, eventsOf([GLUED]), texts);
      for (let k = 0; k <= GLUED.length; k++) {
        expectGuarantee(cfg, eventsOf([GLUED.slice(0, k), GLUED.slice(k)]), texts);
      }
      expectGuarantee(cfg, eventsOf([...GLUED]), texts);
    });
  }

  it("redacts only the id that stands as a word in that text", () => {
    expect(protectedTexts(ALL_REDACT, GLUED)).toEqual(["EMP-123456"]);
    expect(scanText(ALL_REDACT, GLUED, "c0/content").redacted).toBe(
      `[REDACTED:employee_id]${GLUED.slice("EMP-123456".length)}`,
    );
  });
});

describe("enforce: block", () => {
  const BLOCK = config({ builtins: { aws_access_key_id: "block", email: "redact" } });
  const key = SECRET_TEMPLATES.aws_access_key_id?.(5) ?? "";

  it("never releases the blocked match or anything after it, however the text is split", () => {
    fc.assert(
      fc.property(docArb, docArb, fc.array(fc.nat(), { maxLength: 40 }), (pre, post, cuts) => {
        const text = `${pre.text} ${key} ${post.text}`;
        const reference = scanText(BLOCK, text, "c0/content");
        const blockAt = reference.block?.start ?? -1;
        expect(reference.block?.rule).toBe("aws_access_key_id");
        const events = eventsOf(cut(text, cuts));
        const result = run(BLOCK, events);
        expect(result.block).toBe("aws_access_key_id");
        // Released: a prefix of the events, all ending before the block's first char.
        const ids = result.released.map((r) => r.id);
        expect(ids).toEqual(ids.map((_, i) => i));
        const releasedChars = events
          .slice(0, ids.length)
          .reduce((n, e) => n + (e.parts[0]?.text.length ?? 0), 0);
        expect(releasedChars).toBeLessThanOrEqual(blockAt);
        const output = result.output.get("c0/content") ?? "";
        expect(reference.redacted.startsWith(output)).toBe(true);
        expect(output.includes(key)).toBe(false);
      }),
      { numRuns: 150 },
    );
  });
});

describe("enforce: block amid redactions", () => {
  const MIXED = config({
    builtins: { aws_access_key_id: "block", jwt: "block", email: "redact" },
    denyTerms: { terms: ["Project Falcon"], action: "block" },
  });

  it("releases a prefix of the redacted text that stops before the first block match", () => {
    fc.assert(
      fc.property(soupArb, fc.array(fc.nat(), { maxLength: 40 }), (text, cuts) => {
        const reference = scanText(MIXED, text, "c0/content");
        const events = eventsOf(cut(text, cuts));
        const result = run(MIXED, events);
        const output = result.output.get("c0/content") ?? "";
        expect(reference.redacted.startsWith(output)).toBe(true);
        expect(result.block).toBe(reference.block?.rule);
        if (reference.block === undefined) {
          expect(output).toBe(reference.redacted);
          return;
        }
        const released = events.slice(0, result.released.length);
        expect(released.reduce((n, e) => n + (e.parts[0]?.text.length ?? 0), 0)).toBeLessThanOrEqual(
          reference.block.start,
        );
      }),
      { numRuns: 400 },
    );
  });
});

describe("observe mode", () => {
  const OBSERVE = config(everything("redact"), "observe");

  it("releases every event at once and unchanged, still recording verdicts", () => {
    fc.assert(
      fc.property(docArb, fc.array(fc.nat(), { maxLength: 40 }), (doc, cuts) => {
        const events = eventsOf(cut(doc.text, cuts));
        const result = run(OBSERVE, events);
        expect(result.backlog.every((n) => n === 0)).toBe(true);
        expect(result.released.every((r) => r.heldFor === 0)).toBe(true);
        expect(result.output.get("c0/content") ?? "").toBe(doc.text);
        expect(sorted(result.core.verdicts)).toEqual(
          sorted(scanText(OBSERVE, doc.text, "c0/content").verdicts),
        );
      }),
      { numRuns: 100 },
    );
  });
});

describe("rules that hold nothing scan in batches", () => {
  const OBSERVE = config(everything("redact"), "observe");
  /** Prose no rule matches, `n` chars long. */
  const prose = (n: number) => "the answer is plain. ".repeat(Math.ceil(n / 21)).slice(0, n);
  // Documents reaching across one or two batch boundaries, wherever in them a boundary falls.
  const longDocArb = fc
    .tuple(fc.integer({ min: LAG_CHARS - 400, max: 2 * LAG_CHARS + 100 }), docArb, docArb)
    .map(([n, a, b]) => `${a.text} ${prose(n)} ${b.text}`);

  for (const [name, cfg] of [
    ["observe, every rule", OBSERVE],
    ["enforce, default rules (flags and redactions)", DEFAULTS],
  ] as const) {
    it(`${name}: the verdicts of long documents split at random boundaries are the whole text's`, () => {
      fc.assert(
        fc.property(longDocArb, fc.array(fc.nat(), { maxLength: 60 }), (text, cuts) => {
          const result = run(cfg, eventsOf(cut(text, cuts)));
          expect(sorted(result.core.verdicts)).toEqual(sorted(scanText(cfg, text, "c0/content").verdicts));
        }),
        { numRuns: 60 },
      );
    });
  }

  it("an address split across events is found once, even before the stream ends", () => {
    const core = new GuardrailCore<number>(config(undefined, "observe"));
    const text = `${prose(LAG_CHARS - 10)} mail jane.doe@exam`;
    core.push(1, [{ channel: "c0/content", text }], 0);
    core.push(2, [{ channel: "c0/content", text: "ple.com today" }], 1);
    // Read mid-stream: the batch has not filled, yet the address before the reading is reported.
    const start = text.indexOf("jane");
    expect(core.verdicts).toEqual([
      {
        rule: "email",
        action: "flag",
        channel: "c0/content",
        start,
        end: start + "jane.doe@example.com".length,
      },
    ]);
    core.end(2);
    expect(core.verdicts).toHaveLength(1);
  });

  it("searches nothing per event for them until a batch fills, then the batch at once", () => {
    const core = new GuardrailCore<number>(config(undefined, "observe"));
    const piece = prose(32);
    const events = Math.floor(LAG_CHARS / piece.length) - 1;
    for (let i = 0; i < events; i++) core.push(i, [{ channel: "c0/content", text: piece }], i);
    expect(core.stats.searchedChars).toBe(0);
    for (let i = 0; i < 2; i++) core.push(events + i, [{ channel: "c0/content", text: piece }], events + i);
    expect(core.stats.searchedChars).toBeGreaterThanOrEqual(LAG_CHARS);
  });
});
