import { Redactor } from "./redactor.ts";
import { RuleScanner } from "./rule-scanner.ts";
import type { BlockInfo, Rule, Verdict } from "./types.ts";
import { decisionLength, holdsText } from "./window.ts";

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
    this.open = rules.map(() => undefined);
    this.context = Math.max(0, ...rules.map((r) => r.detector.lookbehind));
    this.redactor = enforce ? new Redactor() : undefined;
  }

  /** Appends text; after the channel finished, the text starts a fresh segment (scanned as a new text). */
  append(text: string): void {
    if (this.finished) {
      this.finished = false;
      this.buffer = "";
      this.bufferStart = this.length;
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

  /** Scans what was appended, records verdicts and redactions, then drops the decided text. */
  scan(): void {
    let keep = this.length;
    for (const scanner of this.scanners) {
      this.searched += scanner.scan(this.buffer, this.bufferStart, this.finished);
      keep = Math.min(keep, scanner.from);
    }
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
