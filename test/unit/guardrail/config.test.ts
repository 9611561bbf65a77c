import { describe, expect, it } from "vitest";
import { BUILTIN_RULES, parseGuardrailConfig } from "../../../src/guardrail/index.ts";

function error(rules: unknown, mode?: string): string {
  const result = parseGuardrailConfig(mode, typeof rules === "string" ? rules : JSON.stringify(rules));
  if (result.ok) throw new Error("expected a configuration error");
  return result.error;
}

describe("parseGuardrailConfig defaults", () => {
  it("enforces by default with credentials and cards redacted, other PII flagged", () => {
    const result = parseGuardrailConfig(undefined, undefined);
    if (!result.ok) throw new Error(result.error);
    const { config } = result;
    expect(config.mode).toBe("enforce");
    const actions = Object.fromEntries(config.rules.map((r) => [r.name, r.action]));
    expect(actions).toEqual({
      openai_key: "redact",
      anthropic_key: "redact",
      aws_access_key_id: "redact",
      github_token: "redact",
      slack_token: "redact",
      google_api_key: "redact",
      jwt: "redact",
      private_key: "redact",
      payment_card: "redact",
      email: "flag",
      phone: "flag",
      iban: "flag",
      us_ssn: "flag",
    });
    expect(config.rules.find((r) => r.name === "jwt")?.mask).toBe("[REDACTED:jwt]");
  });

  it("derives the default window from the widest redacting rule, under the 50-token cap", () => {
    const result = parseGuardrailConfig("", "");
    if (!result.ok) throw new Error(result.error);
    expect(result.config.window).toEqual({
      chars: 128,
      tokens: 32,
      rule: "private_key",
      capChars: 200,
      clamped: [],
    });
  });

  it("shrinks the window when only narrow rules hold text", () => {
    const off = Object.fromEntries(BUILTIN_RULES.map((b) => [b.name, "off"]));
    const result = parseGuardrailConfig(
      "enforce",
      JSON.stringify({ builtins: { ...off, aws_access_key_id: "redact" } }),
    );
    if (!result.ok) throw new Error(result.error);
    expect(result.config.window).toMatchObject({ chars: 20, tokens: 5, rule: "aws_access_key_id" });
  });

  it("holds nothing when every rule only flags", () => {
    const flags = Object.fromEntries(BUILTIN_RULES.map((b) => [b.name, "flag"]));
    const result = parseGuardrailConfig("enforce", JSON.stringify({ builtins: flags }));
    if (!result.ok) throw new Error(result.error);
    expect(result.config.window).toMatchObject({ chars: 0, tokens: 0, rule: undefined });
  });

  it("clamps a built-in wider than the cap and lists it", () => {
    const result = parseGuardrailConfig("enforce", JSON.stringify({ builtins: { email: "redact" } }));
    if (!result.ok) throw new Error(result.error);
    expect(result.config.window).toMatchObject({ chars: 200, rule: "email", clamped: ["email"] });
  });

  it("applies a global mask template and per-rule masks", () => {
    const result = parseGuardrailConfig(
      "observe",
      JSON.stringify({
        mask: "<{rule}>",
        builtins: { email: { action: "redact", mask: "***" }, phone: "off" },
      }),
    );
    if (!result.ok) throw new Error(result.error);
    expect(result.config.mode).toBe("observe");
    expect(result.config.rules.find((r) => r.name === "jwt")?.mask).toBe("<jwt>");
    expect(result.config.rules.find((r) => r.name === "email")).toMatchObject({
      action: "redact",
      mask: "***",
    });
    expect(result.config.rules.some((r) => r.name === "phone")).toBe(false);
  });
});

describe("parseGuardrailConfig errors name the culprit", () => {
  it("rejects an unknown mode", () => {
    expect(error({}, "strict")).toMatch(/GUARDRAIL_MODE.*"strict"/);
  });

  it("rejects JSON that does not parse or is not an object", () => {
    expect(error("{not json")).toMatch(/GUARDRAIL_RULES: not valid JSON/);
    expect(error("[]")).toMatch(/must be a JSON object/);
  });

  it("rejects an unknown top-level field", () => {
    expect(error({ windowToken: 10 })).toMatch(/unknown field "windowToken"/);
  });

  it("rejects an unknown built-in name", () => {
    expect(error({ builtins: { credit_card: "redact" } })).toMatch(/unknown built-in rule "credit_card"/);
  });

  it("rejects an unknown action, naming the rule", () => {
    expect(error({ builtins: { email: "hide" } })).toMatch(/built-in rule "email": unknown action "hide"/);
    expect(error({ custom: [{ name: "x", pattern: "x", maxLength: 1, action: "drop" }] })).toMatch(
      /custom rule "x": unknown action "drop"/,
    );
    expect(error({ denyTerms: { terms: ["a"], action: "nope" } })).toMatch(
      /rule "deny_terms": unknown action/,
    );
  });

  it("rejects a bad regular expression, naming the rule", () => {
    expect(error({ custom: [{ name: "broken", pattern: "a(b", maxLength: 5, action: "flag" }] })).toMatch(
      /custom rule "broken": invalid pattern/,
    );
    expect(
      error({ custom: [{ name: "flags", pattern: "a", flags: "g", maxLength: 5, action: "flag" }] }),
    ).toMatch(/custom rule "flags": flags/);
  });

  it("rejects a custom rule without maxLength, naming the rule", () => {
    expect(error({ custom: [{ name: "emp", pattern: "EMP-\\d+", action: "redact" }] })).toMatch(
      /custom rule "emp": maxLength is required/,
    );
    expect(error({ custom: [{ name: "emp", pattern: "E", maxLength: 0, action: "redact" }] })).toMatch(
      /custom rule "emp": maxLength must be a positive integer/,
    );
  });

  it("rejects a maxLength over the window cap, naming the rule and the cap", () => {
    expect(
      error({ custom: [{ name: "big", pattern: "x{1,300}", maxLength: 300, action: "redact" }] }),
    ).toMatch(
      /custom rule "big": longest match of 300 chars is over the window cap of 200 chars \(windowTokens 50\)/,
    );
    expect(error({ windowTokens: 2, denyTerms: { terms: ["a very long forbidden phrase"] } })).toMatch(
      /rule "deny_terms": longest match of 28 chars is over the window cap of 8 chars/,
    );
  });

  it("accepts a maxLength equal to the cap, clamping only its lookahead", () => {
    const result = parseGuardrailConfig(
      "enforce",
      JSON.stringify({ custom: [{ name: "edge", pattern: "x{200}", maxLength: 200, action: "redact" }] }),
    );
    if (!result.ok) throw new Error(result.error);
    expect(result.config.window).toMatchObject({ chars: 200, rule: "edge", clamped: ["edge"] });
  });

  it("rejects a pattern that matches the empty string, and duplicate or invalid names", () => {
    expect(error({ custom: [{ name: "empty", pattern: "a*", maxLength: 5, action: "flag" }] })).toMatch(
      /custom rule "empty": pattern matches the empty string/,
    );
    expect(error({ custom: [{ name: "email", pattern: "a", maxLength: 5, action: "flag" }] })).toMatch(
      /custom rule "email": the name is already used/,
    );
    expect(error({ custom: [{ name: "Bad Name", pattern: "a", maxLength: 5, action: "flag" }] })).toMatch(
      /custom rule #1: name must match/,
    );
  });

  it("rejects a window cap out of range and malformed deny terms", () => {
    expect(error({ windowTokens: 0 })).toMatch(/windowTokens must be an integer from 1 to 2048/);
    expect(error({ windowTokens: 1.5 })).toMatch(/windowTokens/);
    expect(error({ denyTerms: { terms: ["ok", ""] } })).toMatch(/rule "deny_terms": terms must be a list/);
    expect(error({ denyTerms: { terms: ["ok"], wholeWord: "yes" } })).toMatch(
      /wholeWord must be true or false/,
    );
  });
});
