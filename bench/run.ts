/**
 * `npm run bench`: bundles the worker, starts the mock upstream (own process) and every target,
 * runs bench/suite.ts's scenarios in order, prints one side-by-side table with the goals judged,
 * and writes bench/results/<time>.json and bench/results/latest.json. Exits 0 whether or not a
 * goal is met: the bench reports, CI does not gate on timings.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { buildWorker } from "../test/support/gateway.ts";
import { createAgent, traceStream } from "./client.ts";
import { ForeignLoad } from "./load.ts";
import { startMock } from "./mock-process.ts";
import { ANTHROPIC_VIA_UNIFIED, OPENAI_NATIVE } from "./routes.ts";
import type { BenchContext, Row } from "./scenario.ts";
import { GOALS, SCENARIOS, TARGETS } from "./suite.ts";
import { renderTable, type Section } from "./table.ts";
import type { Target } from "./targets.ts";

const RESULTS_DIR = path.resolve(process.cwd(), "bench/results");

/**
 * Other processes using this much CPU during a scenario (a tenth of a core: more than the
 * kernel's own background work on a quiet machine) mark its figures as distorted.
 */
const NOISY_CORES = 0.1;

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

function packageVersion(name: string): string | undefined {
  try {
    const pkg: unknown = JSON.parse(readFileSync(path.resolve("node_modules", name, "package.json"), "utf8"));
    return typeof pkg === "object" && pkg !== null && "version" in pkg ? String(pkg.version) : undefined;
  } catch {
    return undefined;
  }
}

function git(args: string[]): string | undefined {
  try {
    return execFileSync("git", args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return undefined;
  }
}

/** Machine and code facts that make two result files comparable (or show why they are not). */
function environment(): Record<string, unknown> {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model,
    memoryMiB: Math.round(os.totalmem() / 2 ** 20),
    platform: `${os.platform()} ${os.release()}`,
    node: process.version,
    workerd: packageVersion("workerd"),
    miniflare: packageVersion("miniflare"),
    commit: git(["rev-parse", "HEAD"]),
    dirty: (git(["status", "--porcelain"]) ?? "") !== "",
  };
}

/** Writes via a temporary file so a reader never sees half a result. */
function writeJson(file: string, value: unknown): void {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`);
  renameSync(tmp, file);
}

/**
 * Miniflare prints each `console.log` of a worker through this process's `console.log` (the
 * gateway logs one structured line per stream): thousands of lines would bury the table. They
 * are counted instead; warnings and errors (`console.error`) still reach stderr.
 */
function countWorkerLogs(): { readonly lines: () => number } {
  let lines = 0;
  console.log = () => {
    lines += 1;
  };
  return { lines: () => lines };
}

/** One stream per target and route before measuring: a broken target fails fast with its reason. */
async function smokeTest(ctx: BenchContext): Promise<void> {
  for (const t of ctx.targets.values()) {
    for (const route of [OPENAI_NATIVE, ANTHROPIC_VIA_UNIFIED]) {
      const req = route.request(t.kind, { events: 3, intervalMs: 0, padChars: 4 });
      const trace = await traceStream(ctx.agent, t.origin, req);
      if (trace.error !== undefined || trace.arrivals.length !== 3) {
        throw new Error(
          `bench: target "${t.id}" did not stream on ${req.path} (${trace.error ?? `${trace.arrivals.length}/3 events`})`,
        );
      }
    }
  }
}

/** Printed for `--help` and after a usage error. */
const USAGE = `usage: npm run bench [-- --no-build] [-- --only=<scenario>[,<scenario>...]]
Bundles the worker, starts the mock upstream and twelve workerd targets, runs every scenario (~7 min,
on a quiet machine), prints one table and writes bench/results/<time>.json and latest.json.
  --no-build  reuse dist/local from an earlier build instead of bundling the current source
  --only=ids  run only these scenarios (ids: ${SCENARIOS.map((s) => s.id).join(", ")}) and write no
              result file: for working on a scenario; committed results come from a full run
  --help      print this and exit, starting nothing
See bench/README.md for what each number means.`;

/**
 * The options, or the exit code when there is nothing to run. Checked before anything starts: a
 * typo (or `--help`) must not launch five minutes of benchmark.
 */
function parseOptions(
  argv: readonly string[],
): { readonly build: boolean; readonly only: readonly string[] | undefined } | number {
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const onlyArg = argv.find((a) => a.startsWith("--only="));
  const only = onlyArg?.slice("--only=".length).split(",");
  const unknown =
    argv.find((a) => a !== "--no-build" && a !== onlyArg) ??
    only?.find((id) => !SCENARIOS.some((s) => s.id === id));
  if (unknown !== undefined) {
    process.stderr.write(`bench: unknown argument or scenario ${JSON.stringify(unknown)}\n${USAGE}\n`);
    return 2;
  }
  return { build: !argv.includes("--no-build"), only };
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  if (typeof options === "number") {
    process.exitCode = options;
    return;
  }
  const started = new Date();
  // `npm run bench -- --no-build` reuses dist/local from an earlier build (recorded in the JSON),
  // for iterating on the bench itself; a normal run always measures the current source.
  const { build, only } = options;
  if (build) {
    log("bench: bundling the worker (wrangler deploy --dry-run)…");
    buildWorker();
  }
  const workerLogs = countWorkerLogs();
  const mock = await startMock();
  const targets = new Map<string, Target>();
  const agent = createAgent();
  try {
    for (const spec of TARGETS) {
      const t = await spec.start(mock.origin);
      targets.set(t.id, t);
      log(`bench: ${t.id} at ${t.origin}${t.pid === undefined ? "" : ` (workerd pid ${t.pid})`}`);
    }
    const ctx: BenchContext = { agent, targets, mockOrigin: mock.origin, log };
    await smokeTest(ctx);

    // Everything the bench runs (mock, every workerd) descends from this process.
    const load = new ForeignLoad(process.pid);
    const sections: (Section & { id: string; detail: unknown; seconds: number; otherCores: number })[] = [];
    for (const scenario of SCENARIOS.filter((s) => only === undefined || only.includes(s.id))) {
      log(`bench: ${scenario.title}`);
      const t0 = performance.now();
      load.start();
      const result = await scenario.run(ctx);
      const otherCores = load.stop();
      const seconds = (performance.now() - t0) / 1000;
      const noisy = otherCores >= NOISY_CORES ? ` [other processes used ${otherCores.toFixed(2)} cores]` : "";
      sections.push({
        id: scenario.id,
        title: `${scenario.title}${noisy}`,
        rows: result.rows,
        detail: result.detail,
        seconds,
        otherCores,
      });
      const other = Number.isNaN(otherCores)
        ? ""
        : `; other processes used ${otherCores.toFixed(2)} cores meanwhile`;
      log(`  done in ${seconds.toFixed(1)} s${other}`);
    }

    const table = renderTable(sections, [...targets.keys()]);
    const goals = sections.flatMap((s) =>
      s.rows.flatMap((r: Row) =>
        r.goal === undefined ? [] : [{ scenario: s.id, metric: r.metric, ...r.goal }],
      ),
    );
    const count = (status: string): number => goals.filter((g) => g.status === status).length;
    const lines = [
      "",
      table,
      `Goals: ${count("met")} met, ${count("not met")} not met, ${count("inconclusive")} inconclusive.`,
      ...GOALS.map((g) => `  ${g}.`),
      ...(sections.some((x) => x.otherCores >= NOISY_CORES)
        ? [
            `WARNING: other processes were busy during the scenarios marked [other processes used …] (of ${os.cpus().length} cores):`,
            "their figures are distorted, p99s most. Rerun on a quiet machine before drawing conclusions.",
          ]
        : []),
    ];
    process.stdout.write(`${lines.join("\n")}\n`);

    const finished = new Date();
    const result = {
      startedAt: started.toISOString(),
      durationSeconds: (finished.getTime() - started.getTime()) / 1000,
      environment: { ...environment(), freshBuild: build },
      targets: [...targets.values()].map((t) => ({ id: t.id, kind: t.kind })),
      scenarios: sections.map((s) => ({
        id: s.id,
        title: s.title,
        seconds: s.seconds,
        otherCores: s.otherCores,
        rows: s.rows,
        detail: s.detail,
      })),
      goals,
      workerLogLines: workerLogs.lines(),
    };
    if (only !== undefined) {
      log("bench: --only ran part of the suite: no result file written");
      return;
    }
    mkdirSync(RESULTS_DIR, { recursive: true });
    const file = path.join(
      RESULTS_DIR,
      `${started
        .toISOString()
        .replace(/:/g, "-")
        .replace(/\.\d+Z$/, "Z")}.json`,
    );
    writeJson(file, result);
    writeJson(path.join(RESULTS_DIR, "latest.json"), result);
    log(`bench: wrote ${path.relative(process.cwd(), file)} and bench/results/latest.json`);
  } finally {
    await agent.close();
    for (const t of targets.values()) await t.dispose();
    await mock.stop();
  }
}

main().catch((err: unknown) => {
  log(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exitCode = 1;
});
