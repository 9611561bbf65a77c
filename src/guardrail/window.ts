import { ruleWindow } from "./rules.ts";
import type { Rule, WindowInfo } from "./types.ts";

/** Rough chars per token for English text, used to turn token caps into chars and back (approximate by design). */
export const CHARS_PER_TOKEN = 4;

/** Whether a rule needs text held back in `enforce` mode (a `flag` never changes text, so it never waits). */
export function holdsText(rule: Rule): boolean {
  return rule.action !== "flag";
}

/**
 * The window `enforce` mode needs: the widest `ruleWindow` among rules that hold text, capped at
 * `capTokens × 4` chars. Rules wider than the cap are listed in `clamped`.
 */
export function computeWindow(rules: readonly Rule[], capTokens: number): WindowInfo {
  const capChars = capTokens * CHARS_PER_TOKEN;
  let chars = 0;
  let rule: string | undefined;
  const clamped: string[] = [];
  for (const r of rules) {
    if (!holdsText(r)) continue;
    const need = ruleWindow(r.detector);
    if (need > capChars) clamped.push(r.name);
    if (need > chars) {
      chars = need;
      rule = r.name;
    }
  }
  chars = Math.min(chars, capChars);
  return { chars, tokens: Math.ceil(chars / CHARS_PER_TOKEN), rule, capChars, clamped };
}

/**
 * How far past a start the scanner waits before calling that start decided (the detector's `maxLength`,
 * shortened for a clamped rule so its hold stays within the cap).
 */
export function decisionLength(rule: Rule, capChars: number): number {
  if (!holdsText(rule)) return rule.detector.maxLength;
  return Math.min(rule.detector.maxLength, capChars - rule.detector.lookahead + 1);
}
