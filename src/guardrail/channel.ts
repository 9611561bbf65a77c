import { Redactor } from "./redactor.ts";
import { RuleScanner } from "./rule-scanner.ts";
import { holdingStartMasks, type StartMasks } from "./start-masks.ts";
import type { BlockInfo, Rule, Verdict } from "./types.ts";
import { decisionLength, holdsText } from "./window.ts";

/**
 * Rules that change no text (every `flag` rule, and every rule in `observe` mode) scan a channel in
 * batches of at least this many chars rather than once per event: nothing waits for their verdicts
 * (they are read at the stream's end), and on token-sized appends a scan's cost is its per-call
 * overhead, not its chars. In `observe` mode that was most of the guardrail's CPU per event. The
 * batch also bounds the text they keep in the buffer.
 */
export const LAG_CHARS = 1024;

/** A verdict whose `end` still grows while its match runs on (a long token, a PEM body). */
export type OpenVerdict = { -readonly [K in keyof Verdict]: Verdict[K] };

/**
 * One text channel: a buffer holding only the undecided tail (plus lookbehind context), one incremental scanner
 * per rule, and, when redacting, the channel's redactions. Offsets are absolute in the channel's text.
 */
export class ChannelScanner {
  /** Absolute length of the channel's text so far. */
  length = 0;
  /** No more text will be appended (a final part, or the stream ended). */
  finished = false;
  /** Text rewriter, present when redactions are applied (`enforce`). */
  readonly redactor: Redactor | undefined;
  /** Earliest decided match of a `block` rule, when enforcing. */
  block: BlockInfo | undefined;
  /** Code units searched so far, summed over rules (the linear-cost measure). */
  searched = 0;

  private buffer = "";
  private bufferStart = 0;
  private readonly scanners: RuleScanner[];
  private readonly holding: RuleScanner[];
  /** The start masks of the holding rules (see scanHolding), and the channel's length when they last scanned. */
  private readonly holdingStarts: StartMasks | undefined;
  private holdFrom = 0;
  /** The scanners that hold nothing (see LAG_CHARS), and the channel's length when they last scanned. */
  private readonly lagging: RuleScanner[];
  private lagFrom = 0;
  private readonly open: (OpenVerdict | undefined)[];
  private readonly context: number;

  readonly name: string;
  private readonly enforce: boolean;
  private readonly verdicts: OpenVerdict[];

  constructor(
    name: string,
    rules: readonly Rule[],
    capChars: number,
    enforce: boolean,
    verdicts: OpenVerdict[],
  ) {
    this.name = name;
    this.enforce = enforce;
    this.verdicts = verdicts;
    this.scanners = rules.map(
      (rule, index) =>
        new RuleScanner(rule, decisionLength(rule, capChars), 0, (start, end, continued) =>
          this.record(index, rule, start, end, continued),
        ),
    );
    this.holding = enforce ? this.scanners.filter((s) => holdsText(s.rule)) : [];
    this.lagging = this.scanners.filter((s) => !this.holding.includes(s));
    this.holdingStarts = enforce ? holdingStartMasks(rules) : undefined;
    this.open = rules.map(() => undefined);
    this.context = Math.max(0, ...rules.map((r) => r.detector.lookbehind));
    this.redactor = enforce ? new Redactor() : undefined;
  }

  /** Appends text; after the channel finished, the text starts a fresh segment (scanned as a new text). */
  append(text: string): void {
    if (this.finished) {
      // The ended segment is scanned to its end first (a lagging rule may not have read all of it).
      this.scan();
      this.finished = false;
      this.buffer = "";
      this.bufferStart = this.length;
      this.holdFrom = this.length;
      for (const s of this.scanners) s.reset(this.length);
    }
    this.buffer += text;
    this.length += text.length;
  }

  /** Marks the end of the channel's text: its tail is decided at the next scan. */
  finish(): void {
    this.finished = true;
  }

  /**
   * Absolute offset before which every char is decided by every rule that holds text (all of it when the
   * channel finished): the text before it can be released.
   */
  get safe(): number {
    if (this.finished) return this.length;
    let safe = this.length;
    for (const s of this.holding) safe = Math.min(safe, s.from);
    return safe;
  }

  /**
   * Scans what was appended, records verdicts and redactions, then drops the decided text. The rules
   * that hold nothing scan only once LAG_CHARS more arrived or the channel finished (see catchUp).
   */
  scan(): void {
    this.scanHolding();
    if (this.finished || this.length - this.lagFrom >= LAG_CHARS) this.catchUp();
    else this.trim();
  }

  /**
   * Scans the rules that hold text. A rule that had decided every start before the new text, and none of
   * whose first characters is in it, decides the new text with no scan: no match can start in it
   * (`starts`), and none was running into it. One pass over the new text finds which rules those are;
   * on token-sized appends most rules are, which makes this most of the saving in `enforce`.
   */
  private scanHolding(): void {
    const starts = this.finished ? undefined : this.holdingStarts;
    let present = 0;
    if (starts !== undefined) {
      const masks = starts.masks;
      present = starts.always;
      for (let p = this.holdFrom - this.bufferStart; p < this.buffer.length; p++) {
        const code = this.buffer.charCodeAt(p);
        if (code < 128) present |= masks[code] ?? 0;
      }
    }
    const holding = this.holding;
    for (let i = 0; i < holding.length; i++) {
      const scanner = holding[i] as RuleScanner;
      if (starts !== undefined && (present & (1 << i)) === 0 && scanner.decidedTo(this.holdFrom))
        scanner.skipTo(this.length);
      else this.searched += scanner.scan(this.buffer, this.bufferStart, this.finished);
    }
    this.holdFrom = this.length;
  }

  /** Brings the rules that hold nothing up to the text so far (their verdicts are about to be read). */
  catchUp(): void {
    for (const scanner of this.lagging)
      this.searched += scanner.scan(this.buffer, this.bufferStart, this.finished);
    this.lagFrom = this.length;
    this.trim();
  }

  /** Drops the text every rule has decided (keeping the lookbehind context). */
  private trim(): void {
    let keep = this.length;
    for (const scanner of this.scanners) keep = Math.min(keep, scanner.from);
    keep -= this.context;
    if (keep > this.bufferStart) {
      this.buffer = this.buffer.slice(keep - this.bufferStart);
      this.bufferStart = keep;
    }
  }

  /** Records a decided match (or the next chunk of one): verdict, redaction, block. */
  private record(index: number, rule: Rule, start: number, end: number, continued: boolean): void {
    const open = this.open[index];
    if (continued && open !== undefined) {
      open.end = end;
    } else {
      const verdict = { rule: rule.name, action: rule.action, channel: this.name, start, end };
      this.open[index] = verdict;
      this.verdicts.push(verdict);
    }
    if (!this.enforce) return;
    if (rule.action === "redact") this.redactor?.add(start, end, rule.mask, continued, index);
    else if (
      rule.action === "block" &&
      !continued &&
      (this.block === undefined || start < this.block.start)
    ) {
      this.block = { rule: rule.name, channel: this.name, start };
    }
  }
}
