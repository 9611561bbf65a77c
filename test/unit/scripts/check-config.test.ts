import { execFile } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { type CheckOptions, type CliIo, check, EXIT, parseArgs } from "../../../scripts/check-config.ts";

const run = promisify(execFile);
const SCRIPT = path.resolve("scripts/check-config.ts");
/** The first check loads wrangler (~2 s on a busy machine); every later one reuses it. */
const SLOW = 30_000;

function capture(): CliIo & { stdout: () => string; stderr: () => string } {
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

function options(over: Partial<CheckOptions> = {}): CheckOptions {
  return { dev: false, env: undefined, config: undefined, vars: [], envFiles: [], ...over };
}

/** A copy of wrangler.toml in its own directory, with the given .dev.vars next to it. */
const dirs: string[] = [];
function projectWithDevVars(devVars: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "check-config-"));
  dirs.push(dir);
  copyFileSync("wrangler.toml", path.join(dir, "wrangler.toml"));
  writeFileSync(path.join(dir, ".dev.vars"), devVars);
  return path.join(dir, "wrangler.toml");
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const BAD_PROVIDERS = JSON.stringify([
  { name: "groq", baseUrl: "https://api.groq.com/openai/v1", format: "openai" },
  { name: "mine", baseUrl: "ftp://10.0.0.1/v1", format: "openai" },
]);
const BAD_RULES = JSON.stringify({
  custom: [{ name: "employee_id", pattern: "EMP-\\d+", action: "redact" }],
});

describe("the config check's arguments", () => {
  it("reads wrangler's own flags from the guarded command, and `wrangler dev` means .dev.vars", () => {
    const parsed = parseArgs([
      "--",
      "wrangler",
      "dev",
      "--var",
      "ALLOW_ANONYMOUS:true",
      "LOCAL_RATE_LIMIT:600",
      "--port",
      "8811",
      "--var=URL:http://x:1/v1",
      "-e",
      "staging",
    ]);
    if (!parsed.ok) throw new Error(parsed.reason);
    expect(parsed.options).toMatchObject({
      dev: true,
      env: "staging",
      vars: [
        ["ALLOW_ANONYMOUS", "true"],
        ["LOCAL_RATE_LIMIT", "600"],
        ["URL", "http://x:1/v1"],
      ],
    });
    expect(parsed.command.slice(0, 2)).toEqual(["wrangler", "dev"]);
  });

  it('treats `wrangler deploy --env=""` as the top level, not as dev', () => {
    const parsed = parseArgs(["--", "wrangler", "deploy", "--dry-run", "--outdir", "dist", "--env="]);
    if (!parsed.ok) throw new Error(parsed.reason);
    expect(parsed.options).toMatchObject({ dev: false, env: undefined });
  });

  it("refuses unknown arguments of its own, a --var without a name, and a bare --", () => {
    for (const argv of [["--bogus"], ["--var", "novalue"], ["--"], ["--env"]]) {
      const parsed = parseArgs(argv);
      expect(parsed.ok, argv.join(" ")).toBe(false);
    }
  });
});

describe("the config check", () => {
  it(
    "passes the committed defaults, as npm start, build and deploy use them",
    async () => {
      for (const o of [options(), options({ dev: true, vars: [["ALLOW_ANONYMOUS", "true"]] })]) {
        const io = capture();
        expect(await check(o, io), io.stderr()).toBe(EXIT.ok);
        expect(io.stdout()).toMatch(/^check-config: \d+ variables OK\n$/);
      }
    },
    SLOW,
  );

  it("names PROVIDERS, the entry and the field of a bad provider, and where it was set", async () => {
    const io = capture();
    expect(await check(options({ vars: [["PROVIDERS", BAD_PROVIDERS]] }), io)).toBe(EXIT.invalid);
    expect(io.stderr()).toContain("PROVIDERS[1] (mine): baseUrl must be an http(s) URL");
    expect(io.stderr()).toContain("(PROVIDERS is set in --var)");
    expect(io.stderr()).toContain("Nothing was started or uploaded");
    expect(io.stdout()).toBe("");
  });

  it("names GUARDRAIL_RULES and the custom rule that lacks its maxLength", async () => {
    const io = capture();
    expect(await check(options({ vars: [["GUARDRAIL_RULES", BAD_RULES]] }), io)).toBe(EXIT.invalid);
    expect(io.stderr()).toMatch(/^check-config: GUARDRAIL_RULES: custom rule "employee_id": maxLength/);
  });

  it("checks MAX_EVENT_BYTES like every bounded integer: a value outside 1024..67108864 is refused", async () => {
    for (const value of ["12", "lots", "67108865"]) {
      const io = capture();
      expect(await check(options({ vars: [["MAX_EVENT_BYTES", value]] }), io), value).toBe(EXIT.invalid);
      expect(io.stderr()).toContain("MAX_EVENT_BYTES must be an integer between 1024 and 67108864");
    }
    expect(await check(options({ vars: [["MAX_EVENT_BYTES", "4096"]] }), capture())).toBe(EXIT.ok);
  });

  it("checks the WebSocket limits WS_MAX_STREAMS, WS_MAX_MESSAGE_BYTES, WS_MESSAGE_RATE, WS_SEND_BUFFER_BYTES, naming each", async () => {
    const cases: [string, string, string][] = [
      ["WS_MAX_STREAMS", "0", "WS_MAX_STREAMS must be an integer between 1 and 1000"],
      ["WS_MAX_MESSAGE_BYTES", "10", "WS_MAX_MESSAGE_BYTES must be an integer between 1024 and 104857600"],
      ["WS_MESSAGE_RATE", "fast", "WS_MESSAGE_RATE must be an integer between 1 and 10000"],
      ["WS_SEND_BUFFER_BYTES", "1.5", "WS_SEND_BUFFER_BYTES must be an integer between 16384 and 67108864"],
    ];
    for (const [name, value, message] of cases) {
      const io = capture();
      expect(await check(options({ vars: [[name, value]] }), io), name).toBe(EXIT.invalid);
      expect(io.stderr()).toContain(message);
    }
    expect(await check(options({ vars: [["WS_MAX_STREAMS", "4"]] }), capture())).toBe(EXIT.ok);
  });

  it("refuses a STREAM_HOSTS outside 0..1024, naming it, and takes 0 (an object per stream)", async () => {
    for (const value of ["-1", "1025", "many", "1.5"]) {
      const io = capture();
      expect(await check(options({ vars: [["STREAM_HOSTS", value]] }), io), value).toBe(EXIT.invalid);
      expect(io.stderr()).toContain("STREAM_HOSTS must be an integer between 0 and 1024");
    }
    for (const value of ["0", "1", "64"]) {
      expect(await check(options({ vars: [["STREAM_HOSTS", value]] }), capture()), value).toBe(EXIT.ok);
    }
  });

  it("refuses a CONTINUATION other than on/off and a CONTINUATION_ATTEMPTS outside 0..5, naming each", async () => {
    const cases: [string, string, string][] = [
      ["CONTINUATION", "yes", 'CONTINUATION must be "on" or "off"'],
      ["CONTINUATION_ATTEMPTS", "6", "CONTINUATION_ATTEMPTS must be an integer between 0 and 5"],
      [
        "NATIVE_FALLBACKS",
        '{"openai/x": ["nobody/y"]}',
        'NATIVE_FALLBACKS["openai/x"]: no provider "nobody" is configured',
      ],
    ];
    for (const [name, value, message] of cases) {
      const io = capture();
      expect(await check(options({ vars: [[name, value]] }), io), name).toBe(EXIT.invalid);
      expect(io.stderr()).toContain(message);
    }
    expect(await check(options({ vars: [["CONTINUATION", "off"]] }), capture())).toBe(EXIT.ok);
  });

  it("names a malformed variable in .dev.vars for dev, and ignores .dev.vars otherwise", async () => {
    const config = projectWithDevVars(`PROVIDERS=not json\nGATEWAY_JWT_SECRET=short\n`);
    const dev = capture();
    expect(await check(options({ dev: true, config }), dev)).toBe(EXIT.invalid);
    expect(dev.stderr()).toContain("PROVIDERS is not valid JSON");
    expect(dev.stderr()).toContain("(PROVIDERS is set in .dev.vars (or .env))");
    // Deploy uploads [vars] and --var only: .dev.vars is never part of it.
    const deploy = capture();
    expect(await check(options({ config }), deploy), deploy.stderr()).toBe(EXIT.ok);
  });

  it("checks local secrets too: a short GATEWAY_JWT_SECRET or malformed GATEWAY_KEYS in .dev.vars", async () => {
    const short = capture();
    const config = projectWithDevVars("GATEWAY_JWT_SECRET=short\n");
    expect(await check(options({ dev: true, config }), short)).toBe(EXIT.invalid);
    expect(short.stderr()).toContain("GATEWAY_JWT_SECRET must be at least 32 characters");
    const keys = capture();
    const config2 = projectWithDevVars('GATEWAY_KEYS=[{"name":"local"}]\n');
    expect(await check(options({ dev: true, config: config2 }), keys)).toBe(EXIT.invalid);
    expect(keys.stderr()).toMatch(/check-config: GATEWAY_KEYS\[0\]/);
  });

  it("refuses LOCAL_RATE_LIMIT for a build or deploy, where only the bindings count", async () => {
    const deploy = capture();
    expect(await check(options({ vars: [["LOCAL_RATE_LIMIT", "600"]] }), deploy)).toBe(EXIT.invalid);
    expect(deploy.stderr()).toContain("LOCAL_RATE_LIMIT is for wrangler dev only");
    const dev = capture();
    expect(await check(options({ dev: true, vars: [["LOCAL_RATE_LIMIT", "600"]] }), dev)).toBe(EXIT.ok);
    const bad = capture();
    expect(await check(options({ dev: true, vars: [["LOCAL_RATE_LIMIT", "lots"]] }), bad)).toBe(EXIT.invalid);
    expect(bad.stderr()).toContain("LOCAL_RATE_LIMIT must be an integer");
  });
});

describe("the config check in front of a command", () => {
  const node = process.execPath;
  const flags = ["--experimental-strip-types", "--no-warnings", SCRIPT];

  /** Runs the check in front of a command that writes `marker`, returning the exit code and output. */
  async function guarded(checkArgs: string[], commandExit = 0): Promise<{ code: number; stderr: string }> {
    const marker = path.join(mkdtempSync(path.join(os.tmpdir(), "check-run-")), "ran");
    dirs.push(path.dirname(marker));
    const command = `require("node:fs").writeFileSync(${JSON.stringify(marker)}, "1"); process.exit(${commandExit})`;
    const result = await run(node, [...flags, ...checkArgs, "--", node, "-e", command]).then(
      ({ stderr }) => ({ code: 0, stderr }),
      (e: { code?: number; stderr?: string }) => ({ code: e.code ?? -1, stderr: e.stderr ?? "" }),
    );
    expect(existsSync(marker), "the command ran").toBe(result.code === 0 || result.code === commandExit);
    return result;
  }

  // Two processes only: each loads wrangler (seconds on a busy machine); the messages are covered above.
  it(
    "does not run the command when a variable is bad, and exits 1 naming it",
    async () => {
      const bad = await guarded(["--var", `PROVIDERS:${BAD_PROVIDERS}`]);
      expect(bad.code).toBe(EXIT.invalid);
      expect(bad.stderr).toContain("PROVIDERS[1] (mine): baseUrl must be an http(s) URL");
    },
    SLOW,
  );

  it(
    "runs the command after a clean check and exits with the command's own code",
    async () => {
      expect((await guarded([], 7)).code).toBe(7);
    },
    SLOW,
  );

  it("guards npm start, build and deploy", () => {
    const pkg: unknown = JSON.parse(readFileSync("package.json", "utf8"));
    const scripts = (pkg as { scripts: Record<string, string> }).scripts;
    const wrapper = "node --experimental-strip-types --no-warnings scripts/check-config.ts -- wrangler ";
    expect(scripts.start).toContain(`${wrapper}dev `);
    expect(scripts.build).toContain(`${wrapper}deploy --dry-run`);
    expect(scripts.deploy).toContain(`${wrapper}deploy`);
  });
});
