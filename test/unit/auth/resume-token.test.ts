import { describe, expect, it } from "vitest";
import { signJwt } from "../../../src/auth/jwt.ts";
import { ANONYMOUS_PRINCIPAL, type AuthEnv } from "../../../src/auth/principal.ts";
import { mintResumeToken, resumeSecretOf, verifyResumeToken } from "../../../src/auth/resume-token.ts";
import { resumeTokenFor, streamPrincipalId } from "../../../src/auth/stream-access.ts";
import { ConfigError } from "../../../src/errors.ts";
import { gatewayError, KEY, KEYS, nowSeconds, OTHER_SECRET, SECRET } from "./support.ts";

const STREAM = "AAAAAAAAAAAAAAAAAAAAAA";
const OTHER_STREAM = "BBBBBBBBBBBBBBBBBBBBBB";

function streamReq(query: string, headers: Record<string, string> = {}): Request {
  return new Request(`https://gw.test/v1/streams/${STREAM}${query}`, { headers });
}

describe("resume tokens", () => {
  it("carry the principal id of the stream they were minted for", async () => {
    const token = await mintResumeToken(STREAM, "jwt:0123abcd", SECRET);
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.\d+\.[A-Za-z0-9_-]{43}$/);
    expect(await verifyResumeToken(token, STREAM, SECRET)).toEqual({ ok: true, principalId: "jwt:0123abcd" });
  });

  it("are refused for another stream, with another secret, or when tampered", async () => {
    const token = await mintResumeToken(STREAM, "key:backend", SECRET);
    expect(await verifyResumeToken(token, OTHER_STREAM, SECRET)).toMatchObject({
      ok: false,
      reason: "invalid",
    });
    expect(await verifyResumeToken(token, STREAM, OTHER_SECRET)).toMatchObject({
      ok: false,
      reason: "invalid",
    });
    const [, exp, mac] = token.split(".");
    const otherOwner = `${btoa("key:admin").replace(/=+$/, "")}.${exp}.${mac}`;
    expect(await verifyResumeToken(otherOwner, STREAM, SECRET)).toMatchObject({
      ok: false,
      reason: "invalid",
    });
    const [id] = token.split(".");
    const later = `${id}.${Number(exp) + 3600}.${mac}`;
    expect(await verifyResumeToken(later, STREAM, SECRET)).toMatchObject({ ok: false, reason: "invalid" });
  });

  it("expire after their lifetime", async () => {
    const past = Date.now() - 7200_000;
    const token = await mintResumeToken(STREAM, "key:backend", SECRET, 3600, past);
    const result = await verifyResumeToken(token, STREAM, SECRET);
    expect(result).toMatchObject({ ok: false, reason: "expired" });
    expect(await verifyResumeToken(token, STREAM, SECRET, past + 1000)).toMatchObject({ ok: true });
  });

  it("answer malformed for anything not shaped like one", async () => {
    for (const bad of ["", "x", "a.b.c", `${"A".repeat(300)}.1.${"A".repeat(43)}`, "a.-1.AAAA"]) {
      expect(await verifyResumeToken(bad, STREAM, SECRET)).toMatchObject({ ok: false, reason: "malformed" });
    }
  });

  it("are signed with RESUME_TOKEN_SECRET, else GATEWAY_JWT_SECRET, else not issued", () => {
    expect(resumeSecretOf({ RESUME_TOKEN_SECRET: OTHER_SECRET, GATEWAY_JWT_SECRET: SECRET })).toBe(
      OTHER_SECRET,
    );
    expect(resumeSecretOf({ GATEWAY_JWT_SECRET: SECRET })).toBe(SECRET);
    expect(resumeSecretOf({ GATEWAY_KEYS: KEYS })).toBeUndefined();
    expect(() => resumeSecretOf({ RESUME_TOKEN_SECRET: "short" })).toThrow(ConfigError);
  });
});

describe("stream access", () => {
  const env: AuthEnv = { GATEWAY_KEYS: KEYS, GATEWAY_JWT_SECRET: SECRET };

  it("mints a token for key and token principals, none for anonymous ones or without a secret", async () => {
    const key = { id: "key:backend", kind: "key", name: "backend" } as const;
    const token = await resumeTokenFor(env, STREAM, key);
    expect(token).toBeDefined();
    expect(await resumeTokenFor(env, STREAM, ANONYMOUS_PRINCIPAL)).toBeUndefined();
    expect(await resumeTokenFor({ GATEWAY_KEYS: KEYS }, STREAM, key)).toBeUndefined();
  });

  it("acts as the token's principal when ?token= is valid, with no other credential", async () => {
    const token = await mintResumeToken(STREAM, "jwt:feedbeef", SECRET);
    expect(await streamPrincipalId(streamReq(`?token=${token}`), env, STREAM)).toBe("jwt:feedbeef");
  });

  it("answers 401 naming the reason for a bad token and no other credential", async () => {
    const expired = await mintResumeToken(STREAM, "key:backend", SECRET, 60, Date.now() - 3600_000);
    const err = await gatewayError(streamPrincipalId(streamReq(`?token=${expired}`), env, STREAM), 401);
    expect(err.message).toMatch(/resume token expired/);
    const foreign = await mintResumeToken(OTHER_STREAM, "key:backend", SECRET);
    const err2 = await gatewayError(streamPrincipalId(streamReq(`?token=${foreign}`), env, STREAM), 401);
    expect(err2.message).toMatch(/not valid for this stream/);
  });

  it("falls back to header credentials when the token is bad or absent", async () => {
    const foreign = await mintResumeToken(OTHER_STREAM, "key:other", SECRET);
    expect(await streamPrincipalId(streamReq(`?token=${foreign}`, { "x-api-key": KEY }), env, STREAM)).toBe(
      "key:backend",
    );
    const jwt = await signJwt({ sub: "bob", exp: nowSeconds() + 60 }, SECRET);
    expect(await streamPrincipalId(streamReq("", { authorization: `Bearer ${jwt}` }), env, STREAM)).toMatch(
      /^jwt:/,
    );
    await gatewayError(streamPrincipalId(streamReq(""), env, STREAM), 401);
  });

  it("ignores ?token= when no resume secret is configured", async () => {
    const token = await mintResumeToken(STREAM, "key:backend", SECRET);
    const keysOnly = { GATEWAY_KEYS: KEYS, ALLOW_ANONYMOUS: "true" };
    expect(await streamPrincipalId(streamReq(`?token=${token}`), keysOnly, STREAM)).toBe("anonymous");
  });
});
