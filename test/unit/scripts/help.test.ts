import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const TS = [process.execPath, "--experimental-strip-types", "--no-warnings"];

/** Every script the project runs, as npm runs it. */
const SCRIPTS: Readonly<Record<string, readonly string[]>> = {
  bench: [...TS, "bench/run.ts"],
  token: [...TS, "scripts/token.ts"],
  ttft: [...TS, "scripts/ttft.ts"],
  doctor: [...TS, "scripts/doctor.ts"],
  "build-static": [...TS, "scripts/build-static.ts"],
  "check-config": [...TS, "scripts/check-config.ts"],
  "test-summary": [...TS, "scripts/test-summary.ts"],
  "ensure-chromium": ["bash", "scripts/ensure-chromium.sh"],
  "ensure-proxies": ["bash", "scripts/ensure-proxies.sh"],
};

interface Outcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

async function exec(command: readonly string[], args: readonly string[]): Promise<Outcome> {
  const [program = "", ...rest] = command;
  const t0 = performance.now();
  // A timeout well below a benchmark run: a --help that starts the bench is killed and fails here.
  const options = {
    timeout: 20_000,
    env: { ...process.env, CLOUDFLARE_ACCOUNT_ID: "", CLOUDFLARE_API_TOKEN: "" },
  };
  return run(program, [...rest, ...args], options).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr, ms: performance.now() - t0 }),
    (e: { code?: number; stdout?: string; stderr?: string }) => ({
      code: typeof e.code === "number" ? e.code : -1,
      stdout: e.stdout ?? "",
      stderr: e.stderr ?? "",
      ms: performance.now() - t0,
    }),
  );
}

describe("every script explains itself with --help", () => {
  for (const [name, command] of Object.entries(SCRIPTS)) {
    it(`${name} --help prints its usage and exits 0`, { timeout: 30_000 }, async () => {
      const r = await exec(command, ["--help"]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^usage: /);
    });
  }

  it("bench --help returns at once and starts nothing (no build, no workerd)", {
    timeout: 30_000,
  }, async () => {
    const r = await exec(SCRIPTS.bench ?? [], ["--help"]);
    expect(r.code).toBe(0);
    // Every step of a real run is announced on stderr ("bench: bundling the worker…").
    expect(r.stderr).toBe("");
    expect(r.ms).toBeLessThan(15_000);
  });

  it("bench refuses an unknown argument instead of running", { timeout: 30_000 }, async () => {
    const r = await exec(SCRIPTS.bench ?? [], ["--no-biuld"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown argument or scenario "--no-biuld"');
    expect(r.stderr).not.toContain("bench: bundling");
  });
});
