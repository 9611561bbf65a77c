// `npm run doctor -- <url> [--key K] [--pause 75s] [--json]`: audits every layer between this machine
// and a gateway for SSE buffering, compression and idle timeouts, with the demo/probe model.
// Runs as `node --experimental-strip-types scripts/doctor.ts`: node built-ins and relative imports only.
import process from "node:process";
import { pathToFileURL } from "node:url";
import { parseArgs, USAGE } from "./doctor/args.ts";
import { formatJson, formatText } from "./doctor/report.ts";
import { type DoctorOutcome, EXIT, exitCodeOf, runDoctor } from "./doctor/run.ts";

/** Where the CLI writes, injected so tests run it in-process. */
export interface CliIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

/** Runs the CLI and returns its exit code; never throws, never prints the key. */
export async function main(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  io: CliIo,
  run: (options: Parameters<typeof runDoctor>[0]) => Promise<DoctorOutcome> = runDoctor,
): Promise<number> {
  const parsed = parseArgs(argv, env);
  if (parsed.kind === "help") {
    io.out(`${USAGE}\n`);
    return EXIT.ok;
  }
  if (parsed.kind === "error") {
    io.err(`doctor: ${parsed.message}\n${USAGE}\n`);
    return EXIT.usage;
  }
  const { options } = parsed;
  let outcome: DoctorOutcome;
  try {
    outcome = await run(options);
  } catch (err) {
    // The probes never throw by design; anything else is a bug, said in one line, not a stack trace.
    outcome = {
      kind: "unusable",
      message: `internal error: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
  const code = exitCodeOf(outcome);
  if (outcome.kind === "unusable") {
    if (options.json)
      io.out(`${JSON.stringify({ endpoint: options.endpoint.href, ok: false, error: outcome.message })}\n`);
    io.err(`doctor: ${outcome.message}\n`);
    return code;
  }
  io.out(options.json ? formatJson(outcome.report) : formatText(outcome.report));
  return code;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const code = await main(process.argv.slice(2), process.env, {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
  });
  process.exitCode = code;
}
