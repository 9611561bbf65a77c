import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { type CliIo, EXIT, main, parseTtl } from "../../../scripts/token.ts";
import { verifyJwt } from "../../../src/auth/jwt.ts";
import { authenticate } from "../../../src/auth/principal.ts";
import { req, SECRET } from "./support.ts";

function capture(): CliIo & { out: (t: string) => void; stdout: () => string; stderr: () => string } {
  let out = "";
  let err = "";
  return {
    out: (t) => {
      out += t;
    },
    err: (t) => {
      err += t;
    },
    stdout: () => out,
    stderr: () => err,
  };
}

describe("npm run token", () => {
  it("mints a token the gateway accepts, with models and rate", async () => {
    const io = capture();
    const code = await main(
      ["--sub", "alice", "--ttl", "10m", "--models", "demo/*,openai/gpt-4.1-mini", "--rate=free"],
      { GATEWAY_JWT_SECRET: SECRET },
      io,
    );
    expect(code).toBe(EXIT.ok);
    const token = io.stdout().trim();
    const result = await verifyJwt(token, SECRET);
    if (!result.ok) throw new Error(result.message);
    expect(result.claims).toMatchObject({
      sub: "alice",
      models: ["demo/*", "openai/gpt-4.1-mini"],
      rate: "free",
    });
    expect(result.claims.exp - Math.floor(Date.now() / 1000)).toBeGreaterThan(590);
    const principal = await authenticate(req({ authorization: `Bearer ${token}` }), {
      GATEWAY_JWT_SECRET: SECRET,
    });
    expect(principal.kind).toBe("token");
  });

  it("takes the secret from --secret too, and refuses a missing or short one", async () => {
    const io = capture();
    expect(await main(["--sub", "a", "--secret", SECRET], {}, io)).toBe(EXIT.ok);
    const bad = capture();
    expect(await main(["--sub", "a"], { GATEWAY_JWT_SECRET: "short" }, bad)).toBe(EXIT.usage);
    expect(bad.stderr()).toMatch(/GATEWAY_JWT_SECRET/);
    expect(bad.stdout()).toBe("");
  });

  it("explains wrong arguments", async () => {
    for (const argv of [
      [],
      ["--sub"],
      ["--bogus", "x"],
      ["--sub", "a", "--ttl", "8d"],
      ["--sub", "a", "--rate", "a b"],
    ]) {
      const io = capture();
      expect(await main(argv, { GATEWAY_JWT_SECRET: SECRET }, io)).toBe(EXIT.usage);
      expect(io.stderr()).not.toBe("");
    }
    const help = capture();
    expect(await main(["--help"], {}, help)).toBe(EXIT.ok);
    expect(help.stdout()).toMatch(/usage: npm run token/);
  });

  it("parses lifetimes", () => {
    expect(parseTtl("90")).toBe(90);
    expect(parseTtl("30s")).toBe(30);
    expect(parseTtl("10m")).toBe(600);
    expect(parseTtl("1h")).toBe(3600);
    expect(parseTtl("7d")).toBe(604_800);
    for (const bad of ["0", "8d", "1w", "-1m", "m", ""]) expect(parseTtl(bad)).toBeUndefined();
  });

  it("makes a new gateway key whose printed entry authenticates it", async () => {
    const io = capture();
    expect(await main(["--new-key", "backend"], {}, io)).toBe(EXIT.ok);
    const key = /key .*: (gw_\S+)/.exec(io.stdout())?.[1] ?? "";
    const entry = /GATEWAY_KEYS entry .*: (\{.*\})/.exec(io.stdout())?.[1] ?? "";
    const env = { GATEWAY_KEYS: `[${entry}]` };
    expect(entry).not.toContain(key);
    expect((await authenticate(req({ "x-api-key": key }), env)).id).toBe("key:backend");
  });

  it("runs under node --experimental-strip-types as npm run token does", async () => {
    const script = fileURLToPath(new URL("../../../scripts/token.ts", import.meta.url));
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ["--experimental-strip-types", "--no-warnings", script, "--sub", "bob", "--ttl", "1m"],
      { env: { ...process.env, GATEWAY_JWT_SECRET: SECRET } },
    );
    expect((await verifyJwt(stdout.trim(), SECRET)).ok).toBe(true);
  });
});
