import { inTable, splitsPair } from "./detectors/text.ts";
import type { Detector, Rule } from "./types.ts";

/** Receives each decided piece of a match: a new match, or the next chunk of a running one. */
export type MatchSink = (start: number, end: number, continued: boolean) => void;

/**
 * Earliest start whose outcome may still change as text is appended (everything before it is decided), from
 * what is in the buffer: (A) a start with `length + lookahead` chars after it is decided, since the detector
 * reads no further; (B) a code unit outside the detector's class settles every start up to it, since no attempt
 * reads past it. Cost: at most `length + lookahead` code units, from the end.
 */
function settledBefore(text: string, detector: Detector, length: number, from: number): number {
  let settled = text.length - length - detector.lookahead + 1;
  const inClass = detector.inClass;
  if (inClass !== undefined) {
    const low = Math.max(settled, from);
    for (let q = text.length - Math.max(detector.lookahead, 1); q >= low; q--) {
      if (!inTable(inClass, text.charCodeAt(q))) {
        settled = q + 1;
        break;
      }
    }
  }
  // Never decide half a surrogate pair: `u`-mode patterns see the pair as one character.
  return splitsPair(text, settled) ? settled - 1 : settled;
}

/** The first offset at or after `from` whose code unit is in `starts` (the text's length if none). */
function nextStart(text: string, from: number, starts: Uint8Array): number {
  for (let p = from; p < text.length; p++) if (inTable(starts, text.charCodeAt(p))) return p;
  return text.length;
}

/**
 * Incremental scan of one rule over one channel: keeps the position before which every start is decided and
 * reports each match exactly once, when no later text could change it. Each call reads only the undecided tail
 * plus what was appended, so the total cost is linear in the channel's length.
 */
export class RuleScanner {
  /** Absolute offset before which every start is decided for this rule. */
  from: number;
  readonly rule: Rule;
  /** Chars after a start the scanner waits for before deciding it (see `decisionLength`). */
  private readonly length: number;
  private readonly sink: MatchSink;
  /** Absolute offset where the last match may continue (`continueAt`), or -1. */
  private contAt = -1;
  /** Absolute start of the match that may continue. */
  private matchStart = 0;
  /** Within one `scan`: no start in `[viableLo, viable)` is viable (the buffer does not change meanwhile). */
  private viableLo = -1;
  private viable = 0;

  constructor(rule: Rule, length: number, start: number, sink: MatchSink) {
    this.rule = rule;
    this.length = length;
    this.from = start;
    this.sink = sink;
  }

  /** Whether every start before `at` is decided and no match runs on from there. */
  decidedTo(at: number): boolean {
    return this.from === at && this.contAt < 0;
  }

  /** Decides every start before `at` without a scan: the caller knows none of them can start a match. */
  skipTo(at: number): void {
    this.from = at;
  }

  /** Restarts at `at` as if the text began there (a channel reopened after its end). */
  reset(at: number): void {
    this.from = at;
    this.contAt = -1;
  }

  /**
   * Scans `text` (the channel's buffer, starting at absolute offset `base`) for newly decided matches.
   * `eof`: nothing more will be appended, so everything is decided. Returns the code units searched.
   */
  scan(text: string, base: number, eof: boolean): number {
    const detector = this.rule.detector;
    let from = this.from - base;
    const searched = text.length - from;
    const settled = eof ? text.length : settledBefore(text, detector, this.length, from);
    this.viableLo = -1;

    for (;;) {
      if (this.contAt === from + base && detector.continueAt !== undefined) {
        if (from >= settled) break;
        const next = detector.continueAt(text, from, from + base - this.matchStart);
        if (next !== undefined && next.end > from) {
          this.sink(from + base, next.end + base, true);
          from = next.end;
          this.contAt = next.terminal === true ? -1 : from + base;
          continue;
        }
        this.contAt = -1;
      }
      // A search is skipped where no code unit could start a match (one table lookup each): on
      // token-sized appends most rules meet none of their first characters, and a regex search costs
      // more than the lookups. Matches start only at such code units, so searching from the first one
      // finds the same leftmost match.
      const at = detector.starts === undefined ? from : nextStart(text, from, detector.starts);
      const m = at < text.length ? detector.find(text, at) : undefined;
      const lo = Math.max(from, settled);
      if (m !== undefined && (m.start < lo || m.start < this.firstViable(text, lo))) {
        this.sink(m.start + base, m.end + base, false);
        from = m.end;
        this.matchStart = m.start + base;
        this.contAt = detector.continueAt === undefined ? -1 : from + base;
        continue;
      }
      from = eof ? text.length : this.firstViable(text, lo);
      break;
    }
    this.from = from + base;
    return searched;
  }

  /** First start at or after `lo` whose outcome may still change (the text's length if none). */
  private firstViable(text: string, lo: number): number {
    const viableAt = this.rule.detector.viableAt;
    if (viableAt === undefined) return lo;
    if (this.viableLo >= 0 && lo >= this.viableLo && lo <= this.viable) return this.viable;
    this.viableLo = lo;
    this.viable = text.length;
    const starts = this.rule.detector.starts;
    for (let p = lo; p < text.length; p++) {
      // With a table, one lookup rules out most code units (an ASCII one never splits a surrogate pair).
      if (starts === undefined ? splitsPair(text, p) : !inTable(starts, text.charCodeAt(p))) continue;
      if (viableAt(text, p)) {
        this.viable = p;
        break;
      }
    }
    return this.viable;
  }
}
