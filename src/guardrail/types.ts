import type { ClassifierSpec } from "./classifiers/types.ts";

/**
 * Types shared by the guardrail's detectors, configuration, incremental scanner and prompt scan.
 * Offsets and lengths are in UTF-16 code units ("chars"), the unit JavaScript strings index by.
 */

/** `off`: no scanning. `observe`: scan and report, never delay or change text. `enforce`: hold, redact, block. */
export type GuardrailMode = "off" | "observe" | "enforce";

/** What a rule does with a match. */
export type RuleAction = "redact" | "block" | "flag";

/** A half-open range `[start, end)` of a text. */
export interface Span {
  readonly start: number;
  readonly end: number;
}

/** The next piece of a match that goes on past its first chunk (a long token, a PEM body). */
export interface Continuation {
  readonly end: number;
  /** True when the match is complete after this piece (e.g. a PEM `END` line was consumed). */
  readonly terminal?: boolean;
}

/**
 * A bounded pattern. The scanner relies on this locality contract to decide a start without the rest of the
 * stream: what `find` reports for a start `s` depends only on `text[s - lookbehind, s + maxLength + lookahead)`
 * and, when `inClass` is given, on nothing past the first code unit at or after `s` outside the class (plus
 * `lookahead - 1`). `continueAt` obeys the same contract for the position it continues at.
 */
export interface Detector {
  /** Longest match (and longest continuation chunk) this detector can report. */
  readonly maxLength: number;
  /** Code units read past the end of a match or of a failed attempt (e.g. 1 for a trailing boundary check). */
  readonly lookahead: number;
  /** Code units read before a start (boundary checks); the scanner keeps at least this much context. */
  readonly lookbehind: number;
  /**
   * Every code unit a match can contain, as a 128-entry ASCII table (see `asciiTable`; nothing past
   * ASCII is in it): a table rather than a test because the scanner reads it per code unit for every
   * rule, where one call site serving many detectors cannot be inlined. Absent: a match may contain anything.
   */
  readonly inClass?: Uint8Array;
  /**
   * The code units a viable start can begin with, as a 128-entry ASCII table (see `asciiTable`): where
   * it holds 0, and at every code unit past ASCII, `viableAt` is false. Lets the scanner step over text
   * no match can start in with one lookup per code unit instead of a call. Absent: any may start one.
   */
  readonly starts?: Uint8Array;
  /** Leftmost match starting at or after `from`, or undefined. */
  find(text: string, from: number): Span | undefined;
  /**
   * False only when what starts at `at` (a match or none) can no longer change as text is appended;
   * lets text leave the window early. Absent: always possibly viable.
   */
  viableAt?(text: string, at: number): boolean;
  /**
   * When present, a match may go on past `maxLength`: called at a match's end, returns the next chunk or
   * undefined when the match is over. `soFar` is the match's length up to `at`.
   */
  continueAt?(text: string, at: number, soFar: number): Continuation | undefined;
}

/** One active rule: a detector with a stable name, an action and, for `redact`, its replacement text. */
export interface Rule {
  readonly name: string;
  readonly action: RuleAction;
  /** What replaces a redacted match (default `[REDACTED:<name>]`). */
  readonly mask: string;
  readonly detector: Detector;
}

/** The lookahead window `enforce` mode holds back, derived from the active `redact`/`block` rules. */
export interface WindowInfo {
  /** Most chars of a channel that can be held back at once. */
  readonly chars: number;
  /** The same, as approximate tokens (`chars / 4`, rounded up). */
  readonly tokens: number;
  /** Rule that needs the widest window, if any rule holds text back. */
  readonly rule: string | undefined;
  /** The configured cap, in chars (`windowTokens × 4`). */
  readonly capChars: number;
  /** Built-in rules whose longest match exceeds the cap: matches longer than the window are best effort. */
  readonly clamped: readonly string[];
}

/** A validated guardrail configuration, ready for `GuardrailCore` and `scanPrompt`. */
export interface GuardrailConfig {
  readonly mode: GuardrailMode;
  /** Active rules in a stable order (built-ins, then deny terms, then custom rules). */
  readonly rules: readonly Rule[];
  readonly window: WindowInfo;
  /** Classifier services judging windows of the answer and the prompt, in configured order. */
  readonly classifiers: readonly ClassifierSpec[];
}

/** One match, for reporting: where it was and what was done, never the matched text. */
export interface Verdict {
  readonly rule: string;
  readonly action: RuleAction;
  /** The text channel (e.g. `c0/content`, or `prompt`). */
  readonly channel: string;
  /** Offsets in the channel's original text. */
  readonly start: number;
  readonly end: number;
}

/** The terminal outcome of a `block` rule. */
export interface BlockInfo {
  readonly rule: string;
  readonly channel: string;
  /** Offset of the match in the channel's original text. */
  readonly start: number;
}
