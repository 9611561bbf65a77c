import { describe, expect, it } from "vitest";
import { nativeTargets, parseNativeFallbacks } from "../../../src/upstream/native-fallbacks.ts";
import { buildProviders } from "../../../src/upstream/providers.ts";
import { matchNative } from "../../../src/upstream/registry.ts";

const providers = buildProviders(
  {
    PROVIDERS: JSON.stringify([
      { name: "anthropic-eu", baseUrl: "https://eu.example", format: "anthropic" },
      { name: "groq", baseUrl: "https://groq.example/v1", format: "openai" },
    ]),
  },
  () => undefined,
  [],
);

const parse = (value: unknown) => parseNativeFallbacks(JSON.stringify(value), providers);

describe("NATIVE_FALLBACKS", () => {
  it("is empty when unset or blank", () => {
    expect(parseNativeFallbacks(undefined, providers).size).toBe(0);
    expect(parseNativeFallbacks("  ", providers).size).toBe(0);
  });

  it.each([
    ["not json", "NATIVE_FALLBACKS is not valid JSON"],
    ["[]", "NATIVE_FALLBACKS must be a JSON object"],
  ])("refuses %s", (raw, message) => {
    expect(() => parseNativeFallbacks(raw, providers)).toThrow(message);
  });

  it.each([
    [{ nowhere: ["groq/x"] }, 'NATIVE_FALLBACKS["nowhere"]: the key must be'],
    [{ "nobody/m": ["groq/x"] }, 'NATIVE_FALLBACKS["nobody/m"]: the key must be'],
    [{ "openai/m": "groq/x" }, 'NATIVE_FALLBACKS["openai/m"] must be an array of 1 to 7'],
    [{ "openai/m": [] }, 'NATIVE_FALLBACKS["openai/m"] must be an array of 1 to 7'],
    [{ "openai/m": [3] }, 'NATIVE_FALLBACKS["openai/m"]: 3 must be "<provider>/<model>"'],
    [{ "openai/m": ["nobody/x"] }, 'NATIVE_FALLBACKS["openai/m"]: no provider "nobody" is configured'],
    [
      { "openai/m": ["anthropic-eu/x"] },
      '"anthropic-eu" speaks anthropic, not openai: a native route falls back only to the same wire format',
    ],
    [{ "openai/m": ["groq/*"] }, '"groq/*" may use * only under a "<provider>/*" key'],
    [{ "openai/m": ["openai/m"] }, 'NATIVE_FALLBACKS["openai/m"] names itself'],
  ])("names the key and the mistake: %j", (value, message) => {
    expect(() => parse(value)).toThrow(message);
  });

  it("gives an exact key's targets, else the provider's wildcard with the same model", () => {
    const fallbacks = parse({
      "openai/gpt-4.1": ["groq/llama-3.3-70b"],
      "openai/*": ["groq/*", "openai/gpt-4.1-mini"],
      "anthropic/*": ["anthropic-eu/*"],
    });
    const names = (provider: string, model: string) =>
      nativeTargets(fallbacks, providers, provider, model).map((t) => `${t.provider.name}/${t.model}`);
    expect(names("openai", "gpt-4.1")).toEqual(["groq/llama-3.3-70b"]);
    expect(names("openai", "gpt-5")).toEqual(["groq/gpt-5", "openai/gpt-4.1-mini"]);
    // A wildcard member that comes back to the requested target is not tried twice.
    expect(names("openai", "gpt-4.1-mini")).toEqual(["groq/gpt-4.1-mini"]);
    expect(names("anthropic", "claude-sonnet-4-5")).toEqual(["anthropic-eu/claude-sonnet-4-5"]);
    expect(names("gemini", "gemini-2.5-pro")).toEqual([]);
  });
});

describe("a fallback on an endpoint that names the model in its path", () => {
  it("gets the same endpoint's path for its own model", () => {
    const stream = matchNative("gemini", "/v1beta/models/gemini-2.5-pro:streamGenerateContent");
    expect(stream.pathFor?.("gemini-2.5-flash")).toBe(
      "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
    );
    const once = matchNative("gemini", "/v1beta/models/gemini-2.5-pro:generateContent");
    expect(once.pathFor?.("gemini-2.5-flash")).toBe("/v1beta/models/gemini-2.5-flash:generateContent");
    // Endpoints that take the model in the body have no path to change.
    expect(matchNative("anthropic", "/v1/messages").pathFor).toBeUndefined();
  });
});
