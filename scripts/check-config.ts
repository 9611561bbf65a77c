/**
 * Checks the gateway's variables before anything is served or uploaded: `npm start`, `npm run build`
 * and `npm run deploy` run their wrangler command through this script, so a malformed `PROVIDERS` or
 * `GUARDRAIL_RULES` stops them with the variable and field named, instead of a "Ready" followed by a
 * 500 on every request. The worker itself still answers such a mistake with a 500 naming the variable
 * (for settings changed after the check, e.g. in the dashboard); this adds no work to any request.
 *
 * The variables are gathered the way wrangler does, with wrangler's own exported readers: the config
 * file's `[vars]` (of `--env`), then for `wrangler dev` `.dev.vars` (or `.env`), then `--var NAME:VALUE`.
 * They are checked by the project's own `checkSettings` (src/config.ts).
 *
 * Runs as `node --experimental-strip-types scripts/check-config.ts`: node built-ins, wrangler and
 * relative imports only.
 */
import { spawn, spawnSync } from "node:child_process";
import path from "node:path";
import process from "node:process";
import { pathToFileURL } from "node:url";

/** Exit codes: success, a configuration mistake, wrong arguments. */
export const EXIT = { ok: 0, invalid: 1, usage: 2 } as const;

/** Printed for `--help` and after a usage error. */
export const USAGE = `usage: node scripts/check-config.ts [--dev] [--env NAME] [--config FILE] [--var NAME:VALUE]... [--env-file FILE]...
       node scripts/check-config.ts [options] -- wrangler dev|deploy [wrangler options]
Checks the variables the gateway would run with and names the first mistake (exit 1).
  --dev        also read .dev.vars (or .env), as wrangler dev does
  --env        the wrangler environment (default: the top level)
  --config     the wrangler config file (default: wrangler.toml, found as wrangler finds it)
  --var        NAME:VALUE, overrides the config like wrangler's --var (repeatable)
  --env-file   a .env file to read instead of .dev.vars, as wrangler dev's --env-file (repeatable)
  -- COMMAND   run COMMAND after a clean check (exit 1 without running it if the check fails);
               COMMAND's own --var, --env, --config and --env-file count too, and "wrangler dev"
               implies --dev. npm appends \`npm start -- ARGS\` there.`;

/** Where the variables come from: the same inputs as the wrangler command being guarded. */
export interface CheckOptions {
  readonly dev: boolean;
  readonly env: string | undefined;
  readonly config: string | undefined;
  readonly vars: readonly (readonly [string, string])[];
  readonly envFiles: readonly string[];
}

type Parsed =
  | { readonly ok: true; readonly help: boolean; readonly options: CheckOptions; readonly command: string[] }
  | { readonly ok: false; readonly reason: string };

/** Options wrangler takes as arrays: every following word that is not a flag is one more value. */
const ARRAY_FLAGS = new Set(["--var", "--env-file"]);
const FLAG_ALIASES: Readonly<Record<string, string>> = { "-e": "--env", "-c": "--config" };

interface Collected {
  dev: boolean;
  env: string | undefined;
  config: string | undefined;
  vars: [string, string][];
  envFiles: string[];
  help: boolean;
}

/** `NAME:VALUE` split at the first colon, as wrangler's --var does; undefined without a name. */
function splitVar(text: string): [string, string] | undefined {
  const colon = text.indexOf(":");
  if (colon <= 0) return undefined;
  return [text.slice(0, colon), text.slice(colon + 1)];
}

/**
 * Reads the flags that decide the variables from `args`; `strict` (this script's own arguments)
 * rejects anything else, otherwise (the guarded command's arguments) other flags are left to it.
 */
function collect(args: readonly string[], into: Collected, strict: boolean): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? "";
    const eq = arg.indexOf("=");
    const rawName = arg.startsWith("--") && eq !== -1 ? arg.slice(0, eq) : arg;
    const name = FLAG_ALIASES[rawName] ?? rawName;
    if (strict && (name === "--help" || name === "-h")) {
      into.help = true;
      continue;
    }
    if (strict && name === "--dev") {
      into.dev = true;
      continue;
    }
    if (name !== "--var" && name !== "--env-file" && name !== "--env" && name !== "--config") {
      if (strict) return `unknown argument ${JSON.stringify(arg)}`;
      continue;
    }
    const values: string[] = [];
    if (rawName !== arg) values.push(arg.slice(eq + 1));
    else if (ARRAY_FLAGS.has(name)) {
      while (i + 1 < args.length && !(args[i + 1] ?? "").startsWith("-")) values.push(args[++i] ?? "");
    } else if (i + 1 < args.length) values.push(args[++i] ?? "");
    if (values.length === 0) return `${name} needs a value`;
    for (const value of values) {
      if (name === "--var") {
        const pair = splitVar(value);
        if (pair === undefined) return `--var needs NAME:VALUE, got ${JSON.stringify(value)}`;
        into.vars.push(pair);
      } else if (name === "--env-file") into.envFiles.push(value);
      // `--env=""` (npm run deploy) means the top level, as it does for wrangler.
      else if (name === "--env") into.env = value === "" ? undefined : value;
      else into.config = value;
    }
  }
  return undefined;
}

/** Whether the guarded command is `wrangler dev`: its first word after the program is `dev`. */
function isWranglerDev(command: readonly string[]): boolean {
  const program = command[0] ?? "";
  if (!/(^|[/\\])wrangler(\.cmd)?$/.test(program)) return false;
  return command.slice(1).find((a) => !a.startsWith("-")) === "dev";
}

/** Parses this script's arguments and those of the command after `--`. */
export function parseArgs(argv: readonly string[]): Parsed {
  const split = argv.indexOf("--");
  const own = split === -1 ? argv : argv.slice(0, split);
  const command = split === -1 ? [] : argv.slice(split + 1);
  const c: Collected = { dev: false, env: undefined, config: undefined, vars: [], envFiles: [], help: false };
  const ownError = collect(own, c, true);
  if (ownError !== undefined) return { ok: false, reason: ownError };
  if (c.help) return { ok: true, help: true, options: c, command };
  if (split !== -1 && command.length === 0) return { ok: false, reason: "-- must be followed by a command" };
  const commandError = collect(command.slice(1), c, false);
  if (commandError !== undefined) return { ok: false, reason: commandError };
  if (isWranglerDev(command)) c.dev = true;
  return { ok: true, help: false, options: c, command };
}

/** One variable as the worker will see it, and where it was set (named in error messages). */
interface Setting {
  readonly value: unknown;
  readonly source: string;
}

/** The variables a wrangler command would give the worker: config vars, then .dev.vars (dev), then --var. */
async function gather(options: CheckOptions): Promise<Map<string, Setting>> {
  // Imported here, not at the top: wrangler is large, and `--help` or a usage error need none of it.
  const wrangler = await import("wrangler");
  // unstable_ APIs: the same functions wrangler's own commands use (the version is pinned in package.json).
  const config = wrangler.unstable_readConfig(
    { config: options.config, env: options.env },
    // wrangler prints its config warnings itself a moment later; twice would be noise.
    { hideWarnings: true },
  );
  const where = options.env === undefined ? "[vars]" : `[env.${options.env}.vars]`;
  const file =
    config.configPath === undefined ? "the config" : path.relative(process.cwd(), config.configPath);
  const settings = new Map<string, Setting>();
  if (options.dev) {
    const vars = wrangler.unstable_getVarsForDev(
      config.userConfigPath,
      options.envFiles.length > 0 ? [...options.envFiles] : undefined,
      config.vars,
      options.env,
      true,
      config.secrets,
    );
    for (const [name, binding] of Object.entries(vars)) {
      const source = binding.type === "secret_text" ? ".dev.vars (or .env)" : `${file} ${where}`;
      settings.set(name, { value: binding.value, source });
    }
  } else {
    for (const [name, value] of Object.entries(config.vars)) {
      settings.set(name, { value, source: `${file} ${where}` });
    }
  }
  for (const [name, value] of options.vars) settings.set(name, { value, source: "--var" });
  return settings;
}

/** The variables named in `message`, with where each was set, for the line after the error. */
function sourcesIn(message: string, settings: ReadonlyMap<string, Setting>): string[] {
  return [...settings.entries()]
    .filter(([name]) => new RegExp(`\\b${name.replace(/[^\w]/g, "\\$&")}\\b`).test(message))
    .map(([name, s]) => `${name} is set in ${s.source}`);
}

/** Where the CLI writes, injected so tests run it in-process. */
export interface CliIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

/** Checks the settings `options` describe; returns the exit code, writing the verdict to `io`. */
export async function check(options: CheckOptions, io: CliIo): Promise<number> {
  const [{ checkSettings }, { ConfigError }, { LOCAL_RATE_LIMIT_VAR }] = await Promise.all([
    import("../src/config.ts"),
    import("../src/errors.ts"),
    import("../src/auth/rate-limit.ts"),
  ]);
  let settings: Map<string, Setting>;
  try {
    settings = await gather(options);
  } catch (err) {
    // A config file wrangler cannot read: wrangler would refuse it too, with the same message.
    io.err(`check-config: ${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT.invalid;
  }
  const env = Object.fromEntries([...settings].map(([name, s]) => [name, s.value]));
  try {
    // The worker's in-memory limiter is exact only in one local process (src/auth/rate-limit.ts).
    if (!options.dev && settings.has(LOCAL_RATE_LIMIT_VAR)) {
      throw new ConfigError(
        `${LOCAL_RATE_LIMIT_VAR} is for wrangler dev only: a deployed gateway is limited by its rate-limit bindings`,
      );
    }
    await checkSettings(env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const where = sourcesIn(err.message, settings);
    io.err(
      `check-config: ${err.message}\n${where.map((w) => `  (${w})\n`).join("")}` +
        "Nothing was started or uploaded; fix the variable and run the command again.\n",
    );
    return EXIT.invalid;
  }
  io.out(`check-config: ${settings.size} variables OK\n`);
  return EXIT.ok;
}

/** The options as this script's own flags, for the child process that runs the check. */
function asFlags(o: CheckOptions): string[] {
  return [
    ...(o.dev ? ["--dev"] : []),
    ...(o.env === undefined ? [] : [`--env=${o.env}`]),
    ...(o.config === undefined ? [] : [`--config=${o.config}`]),
    ...o.envFiles.map((f) => `--env-file=${f}`),
    ...o.vars.map(([name, value]) => `--var=${name}:${value}`),
  ];
}

/**
 * Checks in a child process, then runs `command`. Why a child: loading wrangler to read its config
 * costs ~220 MB, which this process would otherwise hold for as long as `wrangler dev` runs.
 */
function checkThenRun(options: CheckOptions, command: readonly string[]): void {
  const checked = spawnSync(
    process.execPath,
    [...process.execArgv, import.meta.filename, ...asFlags(options)],
    { stdio: "inherit" },
  );
  if (checked.status !== EXIT.ok) {
    process.exitCode = checked.status ?? EXIT.invalid;
    return;
  }
  const [program = "", ...args] = command;
  // wrangler.toml's `send_metrics = false` covers most of wrangler's telemetry, but wrangler 4.164
  // sends its "autoconfig" events on every deploy and build without reading it; only this variable
  // stops those. Set it yourself ("true") to opt in.
  const env = { ...process.env, WRANGLER_SEND_METRICS: process.env.WRANGLER_SEND_METRICS ?? "false" };
  const child = spawn(program, args, { stdio: "inherit", env });
  // Ctrl-C reaches the whole foreground process group, wrangler included: this process waits for
  // wrangler to finish shutting down instead of dying first. A signal sent to this process alone
  // (a supervisor stopping it by pid) is passed on.
  process.on("SIGINT", () => {});
  for (const signal of ["SIGTERM", "SIGHUP"] as const) process.on(signal, () => child.kill(signal));
  child.on("error", (err) => {
    process.stderr.write(`check-config: cannot run ${program}: ${err.message}\n`);
    process.exitCode = EXIT.invalid;
  });
  child.on("exit", (code, signal) => {
    process.exitCode = code ?? (signal === null ? EXIT.invalid : 128 + (SIGNAL_NUMBERS[signal] ?? 0));
    process.exit();
  });
}

/** The shell's exit code for a child killed by a signal is 128 + its number. */
const SIGNAL_NUMBERS: Readonly<Record<string, number>> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

/** Runs the CLI; returns the exit code, or undefined when a command was started and owns the exit. */
export async function main(argv: readonly string[], io: CliIo): Promise<number | undefined> {
  const parsed = parseArgs(argv);
  if (!parsed.ok) {
    io.err(`check-config: ${parsed.reason}\n${USAGE}\n`);
    return EXIT.usage;
  }
  if (parsed.help) {
    io.out(`${USAGE}\n`);
    return EXIT.ok;
  }
  if (parsed.command.length > 0) {
    checkThenRun(parsed.options, parsed.command);
    return undefined;
  }
  return check(parsed.options, io);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const code = await main(process.argv.slice(2), {
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
  });
  if (code !== undefined) process.exitCode = code;
}
