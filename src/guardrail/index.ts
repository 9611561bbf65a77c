export {
  DEFAULT_WINDOW_TOKENS,
  type GuardrailConfigResult,
  MAX_WINDOW_TOKENS,
  parseGuardrailConfig,
} from "./config.ts";
export { type PromptScan, scanPrompt, scanText, type TextScan } from "./prompt.ts";
export { BUILTIN_RULES, type BuiltinRule, DEFAULT_MASK, DENY_TERMS_RULE } from "./rules.ts";
export {
  type BlockRelease,
  type EventRelease,
  GuardrailCore,
  type GuardrailStats,
  isBlock,
  type Release,
} from "./scanner.ts";
export type {
  BlockInfo,
  Detector,
  GuardrailConfig,
  GuardrailMode,
  Rule,
  RuleAction,
  Span,
  Verdict,
  WindowInfo,
} from "./types.ts";
export { CHARS_PER_TOKEN, computeWindow } from "./window.ts";
