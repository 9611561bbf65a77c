import type { Rule } from "./types.ts";
import { holdsText } from "./window.ts";

/**
 * Which rules (one bit each, by index) a piece of text could start a match of: `masks[c]` for each ASCII
 * code unit `c` of it, plus `always`, the rules with no `starts` table or `viableAt` (any code unit may start
 * theirs; no built-in rule starts past ASCII). Undefined past 32 rules. Made once per rule list (a
 * configuration's), since every channel of every stream uses the same one.
 */
export interface StartMasks {
  readonly masks: Uint32Array;
  readonly always: number;
}

function startMasks(rules: readonly Rule[]): StartMasks | undefined {
  if (rules.length > 32) return undefined;
  const masks = new Uint32Array(128);
  let always = 0;
  for (const [i, rule] of rules.entries()) {
    const { starts, viableAt } = rule.detector;
    if (starts === undefined || viableAt === undefined) always |= 1 << i;
    else for (let c = 0; c < 128; c++) if (starts[c] === 1) masks[c] = (masks[c] ?? 0) | (1 << i);
  }
  return { masks, always };
}

/** By the configuration's rule list, made on first use. */
const MASKS = new WeakMap<readonly Rule[], StartMasks | null>();

/** The start masks of the rules of `rules` that hold text (in their order: bit i is the i-th of them). */
export function holdingStartMasks(rules: readonly Rule[]): StartMasks | undefined {
  let masks = MASKS.get(rules);
  if (masks === undefined) {
    masks = startMasks(rules.filter(holdsText)) ?? null;
    MASKS.set(rules, masks);
  }
  return masks ?? undefined;
}
