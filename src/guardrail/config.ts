import { parseClassifiers } from "./classifiers/config.ts";
import { customDetector, denyTermsDetector } from "./detectors/user.ts";
import { BUILTIN_RULES, DEFAULT_MASK, DENY_TERMS_RULE, makeRule } from "./rules.ts";
import type { GuardrailConfig, GuardrailMode, Rule, RuleAction } from "./types.ts";
import { CHARS_PER_TOKEN, computeWindow } from "./window.ts";

/** Outcome of `parseGuardrailConfig`: a ready configuration, or an error naming the rule or field at fault. */
export type GuardrailConfigResult =
  | { readonly ok: true; readonly config: GuardrailConfig }
  | { readonly ok: false; readonly error: string };

/** Default cap of the enforce window, in tokens (about 200 chars). */
export const DEFAULT_WINDOW_TOKENS = 50;
/** Largest accepted cap: 8 KiB of held text per channel is already far more delay than a stream should take. */
export const MAX_WINDOW_TOKENS = 2048;

const MODES: readonly GuardrailMode[] = ["off", "observe", "enforce"];
const ACTIONS: readonly RuleAction[] = ["redact", "block", "flag"];
const RULE_NAME = /^[a-z][a-z0-9_]{0,63}$/;
const TOP_KEYS = ["builtins", "denyTerms", "custom", "windowTokens", "mask", "classifiers"];

type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };
type Json = Record<string, unknown>;

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const fail = (error: string): { readonly ok: false; readonly error: string } => ({
  ok: false,
  error: `GUARDRAIL_RULES: ${error}`,
});

function isJson(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function unknownKey(obj: Json, allowed: readonly string[]): string | undefined {
  return Object.keys(obj).find((key) => !allowed.includes(key));
}

function parseAction(value: unknown, where: string): Parsed<RuleAction> {
  const action = ACTIONS.find((a) => a === value);
  return action === undefined
    ? fail(`${where}: unknown action ${JSON.stringify(value)} (use redact, block or flag)`)
    : ok(action);
}

function parseMask(value: unknown, where: string, fallback: string): Parsed<string> {
  if (value === undefined) return ok(fallback);
  return typeof value === "string" && value.length <= 200
    ? ok(value)
    : fail(`${where}: mask must be a string of at most 200 chars`);
}

/**
 * Checks that a user rule's longest match fits the window cap, so `enforce` can hold a whole match back. (Its
 * lookahead past the cap, at most two chars, is clamped like a built-in's and listed in `window.clamped`.)
 */
function fitsCap(rule: Rule, capTokens: number, where: string): Parsed<Rule> {
  const longest = rule.detector.maxLength;
  const cap = capTokens * CHARS_PER_TOKEN;
  return longest <= cap
    ? ok(rule)
    : fail(
        `${where}: longest match of ${longest} chars is over the window cap of ${cap} chars (windowTokens ${capTokens})`,
      );
}

function parseBuiltins(value: unknown, mask: string): Parsed<Rule[]> {
  if (value !== undefined && !isJson(value)) return fail("builtins must be an object of rule name to action");
  const settings = value ?? {};
  const unknown = Object.keys(settings).find((name) => !BUILTIN_RULES.some((b) => b.name === name));
  if (unknown !== undefined) {
    return fail(`unknown built-in rule "${unknown}" (known: ${BUILTIN_RULES.map((b) => b.name).join(", ")})`);
  }
  const rules: Rule[] = [];
  for (const builtin of BUILTIN_RULES) {
    const where = `built-in rule "${builtin.name}"`;
    const setting = settings[builtin.name];
    if (setting === "off") continue;
    const spec = isJson(setting) ? setting : { action: setting ?? builtin.defaultAction };
    const extra = unknownKey(spec, ["action", "mask"]);
    if (extra !== undefined) return fail(`${where}: unknown field "${extra}"`);
    const action = parseAction(spec.action ?? builtin.defaultAction, where);
    if (!action.ok) return action;
    const ruleMask = parseMask(spec.mask, where, mask);
    if (!ruleMask.ok) return ruleMask;
    rules.push(makeRule(builtin.name, action.value, builtin.detector, ruleMask.value));
  }
  return ok(rules);
}

function parseDenyTerms(value: unknown, mask: string, capTokens: number): Parsed<Rule[]> {
  if (value === undefined) return ok([]);
  const where = `rule "${DENY_TERMS_RULE}"`;
  if (!isJson(value))
    return fail(`${where}: denyTerms must be an object {terms, action?, wholeWord?, mask?}`);
  const extra = unknownKey(value, ["terms", "action", "wholeWord", "mask"]);
  if (extra !== undefined) return fail(`${where}: unknown field "${extra}"`);
  const terms = value.terms;
  if (!Array.isArray(terms) || !terms.every((t): t is string => typeof t === "string" && t.trim() !== "")) {
    return fail(`${where}: terms must be a list of non-empty strings`);
  }
  if (terms.length === 0) return ok([]);
  if (value.wholeWord !== undefined && typeof value.wholeWord !== "boolean") {
    return fail(`${where}: wholeWord must be true or false`);
  }
  const action = parseAction(value.action ?? "redact", where);
  if (!action.ok) return action;
  const ruleMask = parseMask(value.mask, where, mask);
  if (!ruleMask.ok) return ruleMask;
  const detector = denyTermsDetector(terms, value.wholeWord !== false);
  const rule = fitsCap(makeRule(DENY_TERMS_RULE, action.value, detector, ruleMask.value), capTokens, where);
  return rule.ok ? ok([rule.value]) : rule;
}

function parseCustom(
  value: unknown,
  index: number,
  taken: Set<string>,
  mask: string,
  cap: number,
): Parsed<Rule> {
  if (!isJson(value)) return fail(`custom rule #${index + 1} must be an object`);
  const name = value.name;
  if (typeof name !== "string" || !RULE_NAME.test(name)) {
    return fail(`custom rule #${index + 1}: name must match ${RULE_NAME.source}`);
  }
  const where = `custom rule "${name}"`;
  if (taken.has(name)) return fail(`${where}: the name is already used by another rule`);
  taken.add(name);
  const extra = unknownKey(value, ["name", "pattern", "flags", "maxLength", "action", "mask"]);
  if (extra !== undefined) return fail(`${where}: unknown field "${extra}"`);
  const { pattern, flags = "", maxLength } = value;
  if (typeof pattern !== "string" || pattern === "")
    return fail(`${where}: pattern must be a non-empty string`);
  if (typeof flags !== "string" || !/^[imsuv]*$/.test(flags)) {
    return fail(`${where}: flags may only use i, m, s, u, v (matching is always global)`);
  }
  if (maxLength === undefined) return fail(`${where}: maxLength is required (the longest match, in chars)`);
  if (typeof maxLength !== "number" || !Number.isInteger(maxLength) || maxLength < 1) {
    return fail(`${where}: maxLength must be a positive integer`);
  }
  let re: RegExp;
  try {
    re = new RegExp(pattern, `${flags}g`);
  } catch (e) {
    return fail(`${where}: invalid pattern (${e instanceof Error ? e.message : String(e)})`);
  }
  if (new RegExp(pattern, flags).test("")) return fail(`${where}: pattern matches the empty string`);
  const action = parseAction(value.action, where);
  if (!action.ok) return action;
  const ruleMask = parseMask(value.mask, where, mask);
  if (!ruleMask.ok) return ruleMask;
  return fitsCap(makeRule(name, action.value, customDetector(re, maxLength), ruleMask.value), cap, where);
}

function parseRules(json: string | undefined, mode: GuardrailMode): Parsed<GuardrailConfig> {
  let raw: unknown = {};
  if (json !== undefined && json.trim() !== "") {
    try {
      raw = JSON.parse(json);
    } catch {
      return fail("not valid JSON");
    }
  }
  if (!isJson(raw)) return fail("must be a JSON object");
  const extra = unknownKey(raw, TOP_KEYS);
  if (extra !== undefined) return fail(`unknown field "${extra}" (known: ${TOP_KEYS.join(", ")})`);
  const capTokens = raw.windowTokens ?? DEFAULT_WINDOW_TOKENS;
  if (
    typeof capTokens !== "number" ||
    !Number.isInteger(capTokens) ||
    capTokens < 1 ||
    capTokens > MAX_WINDOW_TOKENS
  ) {
    return fail(`windowTokens must be an integer from 1 to ${MAX_WINDOW_TOKENS}`);
  }
  const mask = parseMask(raw.mask, "mask", DEFAULT_MASK);
  if (!mask.ok) return mask;
  const builtins = parseBuiltins(raw.builtins, mask.value);
  if (!builtins.ok) return builtins;
  const deny = parseDenyTerms(raw.denyTerms, mask.value, capTokens);
  if (!deny.ok) return deny;
  const custom = raw.custom ?? [];
  if (!Array.isArray(custom)) return fail("custom must be a list of rules");
  const taken = new Set([...BUILTIN_RULES.map((b) => b.name), DENY_TERMS_RULE]);
  const rules = [...builtins.value, ...deny.value];
  for (const [index, value] of custom.entries()) {
    const rule = parseCustom(value, index, taken, mask.value, capTokens);
    if (!rule.ok) return rule;
    rules.push(rule.value);
  }
  const classifiers = parseClassifiers(raw.classifiers);
  if (!classifiers.ok) return fail(classifiers.error);
  return ok({ mode, rules, window: computeWindow(rules, capTokens), classifiers: classifiers.value });
}

/**
 * Validates `GUARDRAIL_MODE` (`off` | `observe` | `enforce`, default `enforce`) and `GUARDRAIL_RULES`, a JSON
 * object (every field optional):
 * - `builtins`: `{ "<name>": "redact" | "block" | "flag" | "off" | { action, mask } }`; unlisted built-ins
 *   keep their default (credentials and payment cards `redact`, `email`/`phone`/`iban`/`us_ssn` `flag`);
 * - `denyTerms`: `{ terms: string[], action = "redact", wholeWord = true, mask }` (rule `deny_terms`);
 * - `custom`: `[{ name, pattern, flags, maxLength, action, mask }]`, `maxLength` required;
 * - `windowTokens`: cap of the enforce window in tokens (default 50, × 4 chars);
 * - `mask`: replacement for redactions, `{rule}` is the rule name (default `[REDACTED:{rule}]`);
 * - `classifiers`: `[{ name, kind, ... }]`, services judging token windows (docs/guardrail-classifiers.md).
 * Every error names the rule or field, so a bad config fails at start-up, never mid-stream.
 */
export function parseGuardrailConfig(
  mode: string | undefined,
  rulesJson: string | undefined,
): GuardrailConfigResult {
  const parsedMode =
    mode === undefined || mode.trim() === "" ? "enforce" : MODES.find((m) => m === mode.trim());
  if (parsedMode === undefined) {
    return {
      ok: false,
      error: `GUARDRAIL_MODE: unknown mode ${JSON.stringify(mode)} (use off, observe or enforce)`,
    };
  }
  const parsed = parseRules(rulesJson, parsedMode);
  return parsed.ok ? { ok: true, config: parsed.value } : parsed;
}
