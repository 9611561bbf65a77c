import { describe, expect, it } from "vitest";
import { signJwt } from "../../../src/auth/jwt.ts";
import {
  ANONYMOUS_PRINCIPAL,
  type AuthEnv,
  assertMayUseModel,
  authenticate,
  mayUseModel,
  type Principal,
  UNCONFIGURED_MESSAGE,
} from "../../../src/auth/principal.ts";
import { ConfigError } from "../../../src/errors.ts";
import { gatewayError, KEY, KEYS, nowSeconds, OTHER_SECRET, req, SECRET } from "./support.ts";

const ENV: AuthEnv = { GATEWAY_KEYS: KEYS, GATEWAY_JWT_SECRET: SECRET };

async function unauthorized(env: AuthEnv, headers: Record<string, string> = {}): Promise<string> {
  const err = await gatewayError(authenticate(req(headers), env), 401);
  expect(err.code).toBe("unauthorized");
  for (const value of Object.values(headers)) {
    const credential = value.replace(/^bearer\s+/i, "").trim();
    if (credential.length >= 8) expect(err.message).not.toContain(credential);
  }
  return err.message;
}

describe("authenticate: gateway keys", () => {
  it("accepts a key from Authorization: Bearer, x-api-key and x-goog-api-key", async () => {
    const cases: Record<string, string>[] = [
      { authorization: `Bearer ${KEY}` },
      { authorization: `bearer   ${KEY} ` },
      { "x-api-key": KEY },
      { "x-goog-api-key": KEY },
      { authorization: `Bearer ${KEY}`, "x-api-key": KEY },
    ];
    for (const headers of cases) {
      expect(await authenticate(req(headers), ENV)).toEqual({
        id: "key:backend",
        kind: "key",
        name: "backend",
      });
    }
  });

  it("carries a key entry's models and rate class", async () => {
    const p = await authenticate(req({ "x-api-key": "gw_limited-key-0123456789abcdef" }), ENV);
    expect(p).toEqual({
      id: "key:limited",
      kind: "key",
      name: "limited",
      models: ["openai/*"],
      rateClass: "free",
    });
  });

  it("accepts a hashed entry", async () => {
    const hex = "46135787a43dd53b6aa535a69578347c0ff87c5030533b212bbe224c5b0f51b5";
    const env = { GATEWAY_KEYS: JSON.stringify([{ name: "ops", sha256: hex }]) };
    const p = await authenticate(
      req({ authorization: "Bearer gw_S1SbkeyIf1QV0DlN9ontI0jVUeKTsn3A3RK0XimP134" }),
      env,
    );
    expect(p.id).toBe("key:ops");
  });

  it("refuses a wrong key with 401, without echoing it, even with anonymous access on", async () => {
    expect(await unauthorized(ENV, { "x-api-key": `${KEY}-wrong` })).toBe("invalid gateway key");
    expect(
      await unauthorized({ ...ENV, ALLOW_ANONYMOUS: "true" }, { "x-goog-api-key": "nope-nope-nope" }),
    ).toBe("invalid gateway key");
  });

  it("refuses two different credentials at once", async () => {
    const msg = await unauthorized(ENV, {
      authorization: `Bearer ${KEY}`,
      "x-api-key": "gw_limited-key-0123456789abcdef",
    });
    expect(msg).toMatch(/conflicting credentials in authorization and x-api-key/);
  });

  it("refuses a non-Bearer or oversized authorization header", async () => {
    expect(await unauthorized(ENV, { authorization: `Basic ${btoa("a:b")}` })).toMatch(/must be "Bearer/);
    expect(await unauthorized(ENV, { authorization: "Bearer" })).toMatch(/must be "Bearer/);
    expect(await unauthorized(ENV, { authorization: `Bearer ${"k".repeat(5000)}` })).toMatch(/too long/);
    expect(await unauthorized(ENV, { "x-api-key": "k".repeat(5000) })).toMatch(
      /x-api-key header is too long/,
    );
  });

  it("says keys are not enabled when only browser tokens are configured", async () => {
    expect(await unauthorized({ GATEWAY_JWT_SECRET: SECRET }, { "x-api-key": KEY })).toMatch(
      /GATEWAY_KEYS is not set/,
    );
  });

  it("treats a broken GATEWAY_KEYS as a configuration error that names no key", async () => {
    const err = await authenticate(req({ "x-api-key": KEY }), {
      GATEWAY_KEYS: `[{"name":"a","key":"${KEY}"`,
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    expect(String(err)).not.toContain(KEY);
  });
});

describe("authenticate: browser tokens", () => {
  it("turns a valid token into a token principal with a hashed id", async () => {
    const token = await signJwt(
      { sub: "alice@example.com", exp: nowSeconds() + 600, models: ["demo/*"], rate: "free" },
      SECRET,
    );
    const p = await authenticate(req({ authorization: `Bearer ${token}` }), ENV);
    expect(p.kind).toBe("token");
    expect(p.id).toMatch(/^jwt:[0-9a-f]{32}$/);
    expect(p.id).not.toContain("alice");
    expect(p).toMatchObject({ name: "alice@example.com", models: ["demo/*"], rateClass: "free" });
    const again = await authenticate(req({ "x-api-key": token }), ENV);
    expect(again.id).toBe(p.id);
  });

  it("answers 401 with the specific reason for expired, tampered and wrongly signed tokens", async () => {
    const expired = await signJwt({ sub: "a", exp: nowSeconds() - 3600 }, SECRET);
    expect(await unauthorized(ENV, { authorization: `Bearer ${expired}` })).toMatch(/expired/);
    const foreign = await signJwt({ sub: "a", exp: nowSeconds() + 600 }, OTHER_SECRET);
    expect(await unauthorized(ENV, { authorization: `Bearer ${foreign}` })).toMatch(/signature is invalid/);
  });

  it("says browser tokens are not enabled when no JWT secret is set", async () => {
    const token = await signJwt({ sub: "a", exp: nowSeconds() + 600 }, SECRET);
    expect(await unauthorized({ GATEWAY_KEYS: KEYS }, { authorization: `Bearer ${token}` })).toMatch(
      /GATEWAY_JWT_SECRET is not set/,
    );
  });

  it("treats a short JWT secret as a configuration error", async () => {
    await expect(authenticate(req(), { GATEWAY_JWT_SECRET: "too-short" })).rejects.toBeInstanceOf(
      ConfigError,
    );
  });
});

describe("authenticate: anonymous access and secure defaults", () => {
  it("refuses every request when nothing is configured, telling the operator what to set", async () => {
    expect(await unauthorized({})).toBe(UNCONFIGURED_MESSAGE);
    expect(await unauthorized({}, { "x-api-key": KEY })).toBe(UNCONFIGURED_MESSAGE);
    expect(await unauthorized({ GATEWAY_KEYS: "[]", ALLOW_ANONYMOUS: "false" })).toBe(UNCONFIGURED_MESSAGE);
    expect(UNCONFIGURED_MESSAGE).toMatch(/GATEWAY_KEYS or GATEWAY_JWT_SECRET/);
  });

  it("asks for credentials when some are configured and none are sent", async () => {
    expect(await unauthorized(ENV)).toMatch(/^missing credentials/);
  });

  it("lets callers without credentials in only when ALLOW_ANONYMOUS is true", async () => {
    expect(await authenticate(req(), { ALLOW_ANONYMOUS: "true" })).toBe(ANONYMOUS_PRINCIPAL);
    expect(await authenticate(req(), { ...ENV, ALLOW_ANONYMOUS: "true" })).toBe(ANONYMOUS_PRINCIPAL);
    await expect(authenticate(req(), { ALLOW_ANONYMOUS: "yes" })).rejects.toBeInstanceOf(ConfigError);
  });

  it("ignores a placeholder key (SDKs insist on one) when no keys are configured and anonymous is on", async () => {
    const p = await authenticate(req({ authorization: "Bearer unused" }), { ALLOW_ANONYMOUS: "true" });
    expect(p).toBe(ANONYMOUS_PRINCIPAL);
  });
});

describe("model access", () => {
  const token = (models?: readonly string[]): Principal => ({
    id: "jwt:0",
    kind: "token",
    name: "a",
    ...(models === undefined ? {} : { models }),
  });

  it("limits anonymous callers to ANONYMOUS_MODELS, demo/* by default", () => {
    expect(mayUseModel(ANONYMOUS_PRINCIPAL, "demo/story", {})).toBe(true);
    expect(mayUseModel(ANONYMOUS_PRINCIPAL, "openai/gpt-4.1-mini", {})).toBe(false);
    expect(mayUseModel(ANONYMOUS_PRINCIPAL, "demo", {})).toBe(false);
    const env = { ANONYMOUS_MODELS: " openai/gpt-4.1-mini , groq/* " };
    expect(mayUseModel(ANONYMOUS_PRINCIPAL, "openai/gpt-4.1-mini", env)).toBe(true);
    expect(mayUseModel(ANONYMOUS_PRINCIPAL, "groq/llama", env)).toBe(true);
    expect(mayUseModel(ANONYMOUS_PRINCIPAL, "demo/story", env)).toBe(false);
    expect(mayUseModel(ANONYMOUS_PRINCIPAL, "demo/story", { ANONYMOUS_MODELS: "" })).toBe(true);
  });

  it("limits tokens and keys to their models when they have a list, else allows every model", () => {
    expect(mayUseModel(token(), "anthropic/claude", {})).toBe(true);
    expect(mayUseModel(token(["demo/*", "openai/gpt-4.1-mini"]), "openai/gpt-4.1-mini", {})).toBe(true);
    expect(mayUseModel(token(["demo/*", "openai/gpt-4.1-mini"]), "openai/gpt-4.1", {})).toBe(false);
    expect(mayUseModel(token(["openai/gpt-4.1*"]), "openai/gpt-4.1-mini", {})).toBe(true);
    expect(mayUseModel(token(["*"]), "anything/at-all", {})).toBe(true);
    expect(mayUseModel(token([]), "demo/story", {})).toBe(false);
    const key: Principal = { id: "key:k", kind: "key", name: "k", models: ["demo/*"] };
    expect(mayUseModel(key, "openai/x", {})).toBe(false);
  });

  it("throws a 403 naming the model and what is allowed", () => {
    const err = (() => {
      try {
        assertMayUseModel(ANONYMOUS_PRINCIPAL, "openai/gpt-4.1", {});
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toMatchObject({ status: 403, code: "forbidden" });
    expect(String((err as Error).message)).toMatch(
      /model "openai\/gpt-4\.1" is not allowed for anonymous callers.*allowed: demo\/\*/,
    );
    expect(() => assertMayUseModel(token(["demo/*"]), `x"${"y".repeat(500)}`, {})).toThrow(
      /this browser token/,
    );
    expect(() => assertMayUseModel(token(["demo/*"]), "demo/echo", {})).not.toThrow();
  });
});
