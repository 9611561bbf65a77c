import { describe, expect, it } from "vitest";
import { sha256, toHex } from "../../../src/auth/bytes.ts";
import { findGatewayKey, gatewayKeys, parseGatewayKeys } from "../../../src/auth/gateway-keys.ts";
import { KEY, KEYS } from "./support.ts";

async function keysOf(raw: string) {
  const result = await parseGatewayKeys(raw);
  if (!result.ok) throw new Error(result.reason);
  return result.keys;
}

async function reasonOf(raw: string): Promise<string> {
  const result = await parseGatewayKeys(raw);
  if (result.ok) throw new Error("expected a failure");
  return result.reason;
}

describe("parseGatewayKeys", () => {
  it("accepts hashed entries and plaintext entries, with optional models and rate", async () => {
    const hex = toHex(await sha256(KEY));
    const keys = await keysOf(
      JSON.stringify([
        { name: "hashed", sha256: hex.toUpperCase(), models: ["demo/*"], rate: "pro" },
        { name: "plain", key: "gw_another-key-0123456789" },
      ]),
    );
    expect(keys.map((k) => [k.name, k.models, k.rate])).toEqual([
      ["hashed", ["demo/*"], "pro"],
      ["plain", undefined, undefined],
    ]);
    expect(toHex(keys[0]?.digest ?? new Uint8Array())).toBe(hex);
  });

  it("names the entry and field of every mistake without echoing a key", async () => {
    const cases: [unknown, RegExp][] = [
      [{}, /must be a JSON array/],
      [[1], /GATEWAY_KEYS\[0\] must be an object/],
      [[{ name: "a b", key: KEY }], /name must be/],
      [
        [
          { name: "a", key: KEY },
          { name: "a", key: `${KEY}x` },
        ],
        /used twice/,
      ],
      [[{ name: "a", sha256: "abc" }], /64 hex digits/],
      [[{ name: "a", key: "short-secret" }], /at least 16/],
      [[{ name: "a", key: KEY, sha256: "0".repeat(64) }], /exactly one/],
      [[{ name: "a" }], /exactly one/],
      [[{ name: "a", key: "aaaaaaaa.bbbbbbbb.cccccccc" }], /must not look like a JWT/],
      [[{ name: "a", key: KEY, models: "demo/*" }], /models must be/],
      [[{ name: "a", key: KEY, rate: "free tier" }], /rate must be/],
    ];
    for (const [value, pattern] of cases) {
      const reason = await reasonOf(JSON.stringify(value));
      expect(reason).toMatch(pattern);
      expect(reason).not.toContain(KEY);
      expect(reason).not.toContain("short-secret");
    }
    expect(await reasonOf(`[{"name":"a","key":"${KEY}"`)).toBe("GATEWAY_KEYS is not valid JSON");
  });

  it("memoizes the parse of one raw value", async () => {
    expect(gatewayKeys(KEYS)).toBe(gatewayKeys(KEYS));
  });
});

describe("findGatewayKey", () => {
  it("finds the entry whose digest matches the presented key", async () => {
    const keys = await keysOf(KEYS);
    expect((await findGatewayKey(keys, KEY))?.name).toBe("backend");
    expect((await findGatewayKey(keys, "gw_limited-key-0123456789abcdef"))?.name).toBe("limited");
  });

  it("finds nothing for a wrong, truncated, extended or empty key", async () => {
    const keys = await keysOf(KEYS);
    for (const wrong of [KEY.slice(0, -1), `${KEY}x`, KEY.toUpperCase(), "", " "]) {
      expect(await findGatewayKey(keys, wrong)).toBeUndefined();
    }
    expect(await findGatewayKey([], KEY)).toBeUndefined();
  });
});
