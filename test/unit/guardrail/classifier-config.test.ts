import { describe, expect, it } from "vitest";
import { parseGuardrailConfig } from "../../../src/guardrail/index.ts";

function parse(classifiers: unknown) {
  return parseGuardrailConfig("enforce", JSON.stringify({ classifiers }));
}

function error(classifiers: unknown): string {
  const result = parse(classifiers);
  if (result.ok) throw new Error("expected a configuration error");
  return result.error;
}

describe("GUARDRAIL_RULES.classifiers", () => {
  it("has no classifier unless one is configured", () => {
    const result = parseGuardrailConfig(undefined, undefined);
    if (!result.ok) throw new Error(result.error);
    expect(result.config.classifiers).toEqual([]);
  });

  it("fills every default of a minimal entry, the key secret from its kind", () => {
    const result = parse([{ name: "lakera", kind: "lakera" }]);
    if (!result.ok) throw new Error(result.error);
    expect(result.config.classifiers).toEqual([
      {
        name: "lakera",
        kind: "lakera",
        keySecret: "LAKERA_API_KEY",
        url: undefined,
        projectId: undefined,
        configId: undefined,
        model: undefined,
        everyTokens: 40,
        contextTokens: 200,
        mode: "hold",
        action: "block",
        timeoutMs: 1500,
        onError: "open",
        applyTo: ["output", "prompt"],
        maxConcurrent: 4,
        maxCallsPerStream: 200,
      },
    ]);
  });

  it("keeps what an entry sets", () => {
    const result = parse([
      {
        name: "mod",
        kind: "openai-moderation",
        url: "http://127.0.0.1:8787/",
        everyTokens: 10,
        contextTokens: 0,
        mode: "async",
        action: "flag",
        timeoutMs: 99,
        onError: "closed",
        applyTo: ["prompt"],
        maxConcurrent: 1,
        maxCallsPerStream: 3,
        keySecret: "MY_MODERATION_KEY",
      },
    ]);
    if (!result.ok) throw new Error(result.error);
    expect(result.config.classifiers[0]).toMatchObject({
      url: "http://127.0.0.1:8787",
      everyTokens: 10,
      contextTokens: 0,
      mode: "async",
      action: "flag",
      timeoutMs: 99,
      onError: "closed",
      applyTo: ["prompt"],
      maxConcurrent: 1,
      maxCallsPerStream: 3,
      keySecret: "MY_MODERATION_KEY",
    });
  });

  it.each([
    [{ kind: "lakera" }, "classifier #1: name must match"],
    [{ name: "Bad Name", kind: "lakera" }, "classifier #1: name must match"],
    [
      { name: "x", kind: "azure" },
      'classifier "x": kind must be one of lakera, openai-moderation, nemo, llama-guard, http',
    ],
    [{ name: "x", kind: "lakera", everyTokens: 0 }, 'classifier "x": everyTokens must be a positive integer'],
    [
      { name: "x", kind: "lakera", everyTokens: 1.5 },
      'classifier "x": everyTokens must be a positive integer',
    ],
    [
      { name: "x", kind: "lakera", contextTokens: -1 },
      'classifier "x": contextTokens must be a non-negative integer',
    ],
    [{ name: "x", kind: "lakera", timeoutMs: "1s" }, 'classifier "x": timeoutMs must be a positive integer'],
    [
      { name: "x", kind: "lakera", maxConcurrent: 0 },
      'classifier "x": maxConcurrent must be a positive integer',
    ],
    [
      { name: "x", kind: "lakera", maxCallsPerStream: 0 },
      'classifier "x": maxCallsPerStream must be a positive integer',
    ],
    [{ name: "x", kind: "lakera", mode: "later" }, 'classifier "x": mode must be one of hold, async'],
    [{ name: "x", kind: "lakera", action: "redact" }, 'classifier "x": action must be one of block, flag'],
    [{ name: "x", kind: "lakera", onError: "maybe" }, 'classifier "x": onError must be one of open, closed'],
    [{ name: "x", kind: "lakera", applyTo: [] }, 'classifier "x": applyTo must be a non-empty list'],
    [{ name: "x", kind: "lakera", applyTo: ["input"] }, 'classifier "x": applyTo must be a non-empty list'],
    [
      { name: "x", kind: "lakera", url: "https://eu.lakera.ai/v2/guard" },
      'classifier "x": url must be an origin',
    ],
    [{ name: "x", kind: "lakera", url: "https://u:p@eu.lakera.ai" }, 'classifier "x": url must be an origin'],
    [{ name: "x", kind: "lakera", url: "ftp://eu.lakera.ai" }, 'classifier "x": url must be an origin'],
    [{ name: "x", kind: "lakera", url: "https://eu.lakera.ai?x=1" }, 'classifier "x": url must be an origin'],
    [{ name: "x", kind: "lakera", keySecret: "lower-case" }, 'classifier "x": keySecret must name a secret'],
    [
      { name: "x", kind: "lakera", configId: "c" },
      'classifier "x": unknown field "configId" for kind lakera',
    ],
    [{ name: "x", kind: "openai-moderation", projectId: "p" }, 'classifier "x": unknown field "projectId"'],
    [{ name: "x", kind: "nemo" }, 'classifier "x": url is required for kind nemo'],
    [{ name: "x", kind: "http" }, 'classifier "x": url is required for kind http'],
    [
      { name: "x", kind: "llama-guard", url: "https://x.test" },
      'classifier "x": kind llama-guard runs on the Workers AI binding',
    ],
    [{ name: "x", kind: "lakera", projectId: "" }, 'classifier "x": projectId must be a non-empty string'],
  ])("refuses %j naming the classifier and field", (entry, message) => {
    const e = error([entry]);
    expect(e.startsWith("GUARDRAIL_RULES: ")).toBe(true);
    expect(e).toContain(message);
  });

  it("refuses a name used twice, and a classifiers value that is not a list", () => {
    expect(
      error([
        { name: "a", kind: "lakera" },
        { name: "a", kind: "http", url: "http://h.test" },
      ]),
    ).toContain('classifier "a": the name is already used');
    expect(error({ name: "a" })).toBe("GUARDRAIL_RULES: classifiers must be a list");
  });

  it("accepts every kind with its own fields", () => {
    const result = parse([
      { name: "l", kind: "lakera", projectId: "project-1", url: "https://eu.lakera.ai" },
      { name: "o", kind: "openai-moderation" },
      { name: "n", kind: "nemo", url: "http://nemo.test:8000", configId: "safety", model: "meta/llama" },
      { name: "g", kind: "llama-guard" },
      { name: "h", kind: "http", url: "https://guard.example", keySecret: "GUARD_KEY" },
    ]);
    if (!result.ok) throw new Error(result.error);
    expect(result.config.classifiers.map((c) => [c.name, c.keySecret])).toEqual([
      ["l", "LAKERA_API_KEY"],
      ["o", "OPENAI_API_KEY"],
      ["n", undefined],
      ["g", undefined],
      ["h", "GUARD_KEY"],
    ]);
  });
});
