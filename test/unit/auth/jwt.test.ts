import { describe, expect, it } from "vitest";
import { base64UrlEncode, utf8 } from "../../../src/auth/bytes.ts";
import { CLOCK_SKEW_SECONDS, looksLikeJwt, signJwt, verifyJwt } from "../../../src/auth/jwt.ts";
import { nowSeconds, OTHER_SECRET, SECRET, signRaw } from "./support.ts";

function part(value: unknown): string {
  return base64UrlEncode(utf8(JSON.stringify(value)));
}

/** A token with a hand-made header, signed properly with SECRET (to isolate the header checks). */
function withHeader(header: unknown, payload: unknown): Promise<string> {
  return signRaw(payload, SECRET, header);
}

async function failure(token: string, secret = SECRET) {
  const result = await verifyJwt(token, secret);
  if (result.ok) throw new Error("expected a failure");
  // Only a meaningful check for strings long enough not to occur in any message by chance.
  if (token.length >= 8) expect(result.message).not.toContain(token);
  return result;
}

describe("verifyJwt", () => {
  it("accepts a token it signed and returns its claims", async () => {
    const exp = nowSeconds() + 600;
    const token = await signJwt({ sub: "alice", exp, models: ["demo/*"], rate: "free" }, SECRET);
    expect(looksLikeJwt(token)).toBe(true);
    const result = await verifyJwt(token, SECRET);
    expect(result).toEqual({ ok: true, claims: { sub: "alice", exp, models: ["demo/*"], rate: "free" } });
  });

  it("refuses a token signed with another secret", async () => {
    const token = await signJwt({ sub: "alice", exp: nowSeconds() + 600 }, OTHER_SECRET);
    expect((await failure(token)).reason).toBe("bad_signature");
  });

  it("refuses a token whose payload was changed after signing", async () => {
    const token = await signJwt({ sub: "alice", exp: nowSeconds() + 600 }, SECRET);
    const [h, , s] = token.split(".");
    const forged = `${h}.${part({ sub: "admin", exp: nowSeconds() + 600 })}.${s}`;
    const result = await failure(forged);
    expect(result.reason).toBe("bad_signature");
    expect(result.message).toMatch(/signature is invalid/);
  });

  it("refuses a token whose signature was changed", async () => {
    const token = await signJwt({ sub: "alice", exp: nowSeconds() + 600 }, SECRET);
    const last = token.at(-2) === "A" ? "B" : "A";
    const tampered = `${token.slice(0, -2)}${last}${token.slice(-1)}`;
    expect((await failure(tampered)).reason).toBe("bad_signature");
  });

  it("refuses an expired token with a message saying so", async () => {
    const token = await signJwt({ sub: "alice", exp: nowSeconds() - 120 }, SECRET);
    const result = await failure(token);
    expect(result.reason).toBe("expired");
    expect(result.message).toMatch(/expired at \d{4}-/);
  });

  it("allows a little clock skew around exp and nbf", async () => {
    const justExpired = await signJwt({ sub: "a", exp: nowSeconds() - (CLOCK_SKEW_SECONDS - 5) }, SECRET);
    expect((await verifyJwt(justExpired, SECRET)).ok).toBe(true);
    const early = await signJwt({ sub: "a", exp: nowSeconds() + 600, nbf: nowSeconds() + 5 }, SECRET);
    expect((await verifyJwt(early, SECRET)).ok).toBe(true);
  });

  it("refuses a token not valid yet", async () => {
    const token = await signJwt({ sub: "a", exp: nowSeconds() + 600, nbf: nowSeconds() + 600 }, SECRET);
    expect((await failure(token)).reason).toBe("not_yet_valid");
  });

  it('refuses alg "none", signed or not', async () => {
    const payload = { sub: "admin", exp: nowSeconds() + 600 };
    const unsigned = `${part({ alg: "none", typ: "JWT" })}.${part(payload)}.`;
    expect((await failure(unsigned)).reason).toBe("wrong_alg");
    expect((await failure(await withHeader({ alg: "none" }, payload))).reason).toBe("wrong_alg");
  });

  it("refuses every algorithm but HS256", async () => {
    const payload = { sub: "a", exp: nowSeconds() + 600 };
    for (const alg of ["HS512", "RS256", "ES256", "hs256", undefined, 256]) {
      const result = await failure(await withHeader({ alg, typ: "JWT" }, payload));
      expect(result.reason).toBe("wrong_alg");
      expect(result.message).toMatch(/HS256/);
    }
  });

  it("refuses critical header extensions", async () => {
    const token = await withHeader({ alg: "HS256", crit: ["b64"] }, { sub: "a" });
    expect((await failure(token)).reason).toBe("malformed");
  });

  it("requires a non-empty string sub of bounded length", async () => {
    const exp = nowSeconds() + 600;
    expect((await failure(await signRaw({ exp }))).reason).toBe("missing_sub");
    expect((await failure(await signJwt({ sub: "", exp }, SECRET))).reason).toBe("missing_sub");
    expect((await failure(await signRaw({ sub: 42, exp }))).reason).toBe("missing_sub");
    expect((await failure(await signJwt({ sub: "x".repeat(257), exp }, SECRET))).reason).toBe(
      "invalid_claims",
    );
  });

  it("requires a numeric exp", async () => {
    const noExp = await failure(await signRaw({ sub: "a" }));
    expect(noExp.reason).toBe("invalid_claims");
    expect(noExp.message).toMatch(/exp is required/);
    expect((await failure(await signRaw({ sub: "a", exp: "soon" }))).reason).toBe("invalid_claims");
  });

  it("checks the models and rate claims", async () => {
    const exp = nowSeconds() + 600;
    for (const bad of [
      { models: "demo/*" },
      { models: [1] },
      { models: [""] },
      { rate: "no spaces" },
      { rate: 3 },
    ]) {
      expect((await failure(await signRaw({ sub: "a", exp, ...bad }))).reason).toBe("invalid_claims");
    }
  });

  it("answers malformed for shapeless input, bad base64url and non-object JSON", async () => {
    for (const token of ["", "abc", "a.b", "a.b.c.d", "a b.c.d", "x".repeat(9000)]) {
      expect((await failure(token)).reason).toBe("malformed");
    }
    const sig = (await signJwt({ sub: "a", exp: nowSeconds() + 60 }, SECRET)).split(".")[2] ?? "";
    expect((await failure(`${part([1, 2])}.${part({})}.${sig}`)).reason).toBe("malformed");
    expect((await failure(`${base64UrlEncode(new Uint8Array([0xff]))}.${part({})}.${sig}`)).reason).toBe(
      "malformed",
    );
  });

  it("refuses a payload that is not an object even when correctly signed", async () => {
    expect((await failure(await signRaw("just a string"))).reason).toBe("malformed");
    expect((await failure(await signRaw(null))).reason).toBe("malformed");
  });
});

describe("signJwt", () => {
  it("refuses a secret shorter than 32 characters", async () => {
    await expect(signJwt({ sub: "a", exp: 1 }, "short")).rejects.toThrow(/at least 32/);
  });
});
