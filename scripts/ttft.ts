// `npm run ttft -- --since 1h [--model M] [--slo 800]`: per-model TTFT from the Analytics Engine SQL API.
// Runs as `node --experimental-strip-types scripts/ttft.ts`: node built-ins and relative imports only.
import process from "node:process";
import { pathToFileURL } from "node:url";
import { formatTable } from "./ttft/format.ts";
import { buildTtftSql, parseArgs, parseTtftResponse, USAGE } from "./ttft/query.ts";

/** The Cloudflare API root; CF_API_BASE overrides it (tests point it at a local stand-in). */
const DEFAULT_API_BASE = "https://api.cloudflare.com/client/v4";
/** An account ID goes into the URL path: 32 hex digits in practice, path-safe characters at least. */
const ACCOUNT_PATTERN = /^[A-Za-z0-9]{1,64}$/;
/** The SQL API answers in seconds; a minute means something is wrong, say so rather than hang. */
const REQUEST_TIMEOUT_MS = 60_000;
/** How much of an error body to show: enough for the API's message, not a wall of HTML. */
const ERROR_EXCERPT_CHARS = 500;

/** Exit codes: success, a failed query (env, network, HTTP, bad answer), wrong arguments. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** Where the CLI reads and writes, injected so tests run it in-process. */
export interface CliIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly fetch: typeof fetch;
}

/** The environment variables the CLI reads. */
export type CliEnv = Readonly<Record<string, string | undefined>>;

function excerpt(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > ERROR_EXCERPT_CHARS ? `${flat.slice(0, ERROR_EXCERPT_CHARS)}...` : flat;
}

/** Runs the CLI and returns its exit code; never throws and never prints the token. */
export async function main(argv: readonly string[], env: CliEnv, io: CliIo): Promise<number> {
  const parsed = parseArgs(argv);
  if (!parsed.ok) {
    io.err(`ttft: ${parsed.reason}\n${USAGE}\n`);
    return EXIT.usage;
  }
  if (parsed.help) {
    io.out(`${USAGE}\n`);
    return EXIT.ok;
  }
  const { options } = parsed;

  const account = env.CLOUDFLARE_ACCOUNT_ID ?? "";
  const token = env.CLOUDFLARE_API_TOKEN ?? "";
  const missing = [account === "" ? "CLOUDFLARE_ACCOUNT_ID" : "", token === "" ? "CLOUDFLARE_API_TOKEN" : ""];
  if (account === "" || token === "") {
    io.err(
      `ttft: set ${missing.filter(Boolean).join(" and ")} (an API token with Account Analytics: Read)\n`,
    );
    return EXIT.failed;
  }
  if (!ACCOUNT_PATTERN.test(account)) {
    io.err("ttft: CLOUDFLARE_ACCOUNT_ID must be the 32-character account ID from the dashboard\n");
    return EXIT.failed;
  }
  const base = (env.CF_API_BASE ?? DEFAULT_API_BASE).replace(/\/+$/, "");
  const url = `${base}/accounts/${account}/analytics_engine/sql`;

  let status: number;
  let text: string;
  try {
    const response = await io.fetch(url, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "text/plain; charset=utf-8" },
      body: buildTtftSql(options),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    status = response.status;
    text = await response.text();
  } catch (error) {
    io.err(`ttft: could not reach ${url}: ${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT.failed;
  }
  if (status < 200 || status > 299) {
    const hint =
      status === 401 || status === 403 ? " (check the token's Account Analytics: Read permission)" : "";
    io.err(`ttft: the SQL API answered HTTP ${status}${hint}: ${excerpt(text)}\n`);
    return EXIT.failed;
  }

  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    io.err(`ttft: the SQL API answered with something that is not JSON: ${excerpt(text)}\n`);
    return EXIT.failed;
  }
  const result = parseTtftResponse(body);
  if (!result.ok) {
    io.err(`ttft: ${result.reason}\n`);
    return EXIT.failed;
  }
  io.out(formatTable(result.rows, options));
  return EXIT.ok;
}

// Run only when executed directly, not when a test imports `main`.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2), process.env, {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    fetch: globalThis.fetch,
  });
}
