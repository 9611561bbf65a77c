import { IBAN } from "./detectors/iban.ts";
import { PAYMENT_CARD } from "./detectors/payment-card.ts";
import { EMAIL, PHONE, US_SSN } from "./detectors/pii.ts";
import { PRIVATE_KEY } from "./detectors/private-key.ts";
import {
  ANTHROPIC_KEY,
  AWS_ACCESS_KEY_ID,
  GITHUB_TOKEN,
  GOOGLE_API_KEY,
  JWT,
  OPENAI_KEY,
  SLACK_TOKEN,
} from "./detectors/tokens.ts";
import type { Detector, Rule, RuleAction } from "./types.ts";

/** A built-in detector with its stable name and its out-of-the-box action. */
export interface BuiltinRule {
  readonly name: string;
  readonly detector: Detector;
  readonly defaultAction: RuleAction;
}

/**
 * The built-in rules, in reporting order. Safe defaults: credentials and payment cards are redacted, other
 * personal data is flagged (redacting every address or phone number would break ordinary answers).
 */
export const BUILTIN_RULES: readonly BuiltinRule[] = [
  { name: "openai_key", detector: OPENAI_KEY, defaultAction: "redact" },
  { name: "anthropic_key", detector: ANTHROPIC_KEY, defaultAction: "redact" },
  { name: "aws_access_key_id", detector: AWS_ACCESS_KEY_ID, defaultAction: "redact" },
  { name: "github_token", detector: GITHUB_TOKEN, defaultAction: "redact" },
  { name: "slack_token", detector: SLACK_TOKEN, defaultAction: "redact" },
  { name: "google_api_key", detector: GOOGLE_API_KEY, defaultAction: "redact" },
  { name: "jwt", detector: JWT, defaultAction: "redact" },
  { name: "private_key", detector: PRIVATE_KEY, defaultAction: "redact" },
  { name: "payment_card", detector: PAYMENT_CARD, defaultAction: "redact" },
  { name: "email", detector: EMAIL, defaultAction: "flag" },
  { name: "phone", detector: PHONE, defaultAction: "flag" },
  { name: "iban", detector: IBAN, defaultAction: "flag" },
  { name: "us_ssn", detector: US_SSN, defaultAction: "flag" },
];

/** Name of the rule built from the configured deny terms. */
export const DENY_TERMS_RULE = "deny_terms";

/** Default replacement for a redacted match; `{rule}` is replaced by the rule's name. */
export const DEFAULT_MASK = "[REDACTED:{rule}]";

/** Resolves a mask template for one rule. */
export function maskFor(template: string, rule: string): string {
  return template.replaceAll("{rule}", rule);
}

/** Longest stretch of a channel this rule can keep undecided: its longest read from a start, minus one. */
export function ruleWindow(detector: Detector): number {
  return detector.maxLength + detector.lookahead - 1;
}

/** Builds an active rule. */
export function makeRule(name: string, action: RuleAction, detector: Detector, maskTemplate: string): Rule {
  return { name, action, detector, mask: maskFor(maskTemplate, name) };
}
