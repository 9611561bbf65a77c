// `npm run token -- --sub alice --ttl 10m [--models demo/*,openai/gpt-4.1-mini] [--rate free]`: mints
// a browser token (HS256 JWT) with GATEWAY_JWT_SECRET, the way an application's backend would.
// `npm run token -- --new-key NAME` makes a gateway key and its GATEWAY_KEYS entry instead.
// Runs as `node --experimental-strip-types scripts/token.ts`: node built-ins and relative imports only.
import process from "node:process";
import { pathToFileURL } from "node:url";
import { base64UrlEncode, sha256, toHex } from "../src/auth/bytes.ts";
import { MIN_JWT_SECRET_LENGTH, signJwt } from "../src/auth/jwt.ts";

/** Exit codes: success, wrong arguments or environment. */
export const EXIT = { ok: 0, usage: 2 } as const;

/** Browser tokens are meant to be short-lived; a week is already generous for a test token. */
const MAX_TTL_SECONDS = 7 * 24 * 3600;
const UNIT_SECONDS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86_400 };
const KEY_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const RATE_CLASS = /^[A-Za-z0-9_-]{1,32}$/;

/** Printed for `--help` and after a usage error. */
export const USAGE = `usage: npm run token -- --sub ID [--ttl 10m] [--models demo/*,openai/gpt-4.1-mini] [--rate CLASS] [--secret S]
       npm run token -- --new-key NAME
  --sub      the end user's id (the token's "sub"), required
  --ttl      lifetime: N, Ns, Nm, Nh or Nd (default 10m, at most 7d)
  --models   comma-separated allowed models; a trailing * is a prefix (default: every model)
  --rate     rate class: selects the RATE_LIMIT_<CLASS> binding
  --secret   the signing secret (default: $GATEWAY_JWT_SECRET)
  --new-key  print a new random gateway key and its GATEWAY_KEYS entry (only the hash is configured)`;

/** Where the CLI writes, injected so tests run it in-process. */
export interface CliIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

/** Parses `10m` and friends into seconds; undefined if it is not a valid lifetime. */
export function parseTtl(text: string): number | undefined {
  const m = /^(\d{1,9})([smhd]?)$/.exec(text);
  if (m === null) return undefined;
  const seconds = Number(m[1]) * (UNIT_SECONDS[m[2] || "s"] ?? 1);
  return seconds >= 1 && seconds <= MAX_TTL_SECONDS ? seconds : undefined;
}

type Flags = ReadonlyMap<string, string>;
const VALUE_FLAGS = new Set(["--sub", "--ttl", "--models", "--rate", "--secret", "--new-key"]);

function parseFlags(argv: readonly string[]): Flags | string {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (arg === "--help" || arg === "-h") {
      flags.set("--help", "");
      continue;
    }
    const eq = arg.indexOf("=");
    const name = eq === -1 ? arg : arg.slice(0, eq);
    if (!VALUE_FLAGS.has(name)) return `unknown argument ${JSON.stringify(arg)}`;
    const value = eq === -1 ? argv[++i] : arg.slice(eq + 1);
    if (value === undefined || value === "") return `${name} needs a value`;
    flags.set(name, value);
  }
  return flags;
}

async function newKey(name: string, io: CliIo): Promise<number> {
  if (!KEY_NAME.test(name)) {
    io.err("token: --new-key NAME must be 1-64 characters of letters, digits, _ . -\n");
    return EXIT.usage;
  }
  // 32 random bytes: 256 bits, far past guessing; base64url so it fits any header unescaped.
  const key = `gw_${base64UrlEncode(crypto.getRandomValues(new Uint8Array(32)))}`;
  const entry = JSON.stringify({ name, sha256: toHex(await sha256(key)) });
  io.out(
    `key (give to the server that calls the gateway; shown once): ${key}\n` +
      `GATEWAY_KEYS entry (add to the JSON array): ${entry}\n`,
  );
  return EXIT.ok;
}

/** Runs the CLI and returns its exit code; prints the token alone on stdout, so `$(…)` captures it. */
export async function main(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  io: CliIo,
): Promise<number> {
  const flags = parseFlags(argv);
  if (typeof flags === "string") {
    io.err(`token: ${flags}\n${USAGE}\n`);
    return EXIT.usage;
  }
  if (flags.has("--help")) {
    io.out(`${USAGE}\n`);
    return EXIT.ok;
  }
  const keyName = flags.get("--new-key");
  if (keyName !== undefined) return newKey(keyName, io);
  const sub = flags.get("--sub");
  if (sub === undefined) {
    io.err(`token: --sub is required\n${USAGE}\n`);
    return EXIT.usage;
  }
  const ttl = parseTtl(flags.get("--ttl") ?? "10m");
  if (ttl === undefined) {
    io.err("token: --ttl must be like 90, 30s, 10m, 1h or 1d, between 1 second and 7 days\n");
    return EXIT.usage;
  }
  const rate = flags.get("--rate");
  if (rate !== undefined && !RATE_CLASS.test(rate)) {
    io.err("token: --rate must be a short name (letters, digits, _ or -)\n");
    return EXIT.usage;
  }
  const models = flags
    .get("--models")
    ?.split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  const secret = flags.get("--secret") ?? env.GATEWAY_JWT_SECRET ?? "";
  if (secret.length < MIN_JWT_SECRET_LENGTH) {
    io.err(
      `token: set GATEWAY_JWT_SECRET (or pass --secret) to the gateway's secret, at least ${MIN_JWT_SECRET_LENGTH} characters\n`,
    );
    return EXIT.usage;
  }
  const now = Math.floor(Date.now() / 1000);
  const token = await signJwt(
    {
      sub,
      iat: now,
      exp: now + ttl,
      ...(models === undefined ? {} : { models }),
      ...(rate === undefined ? {} : { rate }),
    },
    secret,
  );
  io.out(`${token}\n`);
  return EXIT.ok;
}

// Run only when executed directly, not when a test imports `main`.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2), process.env, {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
  });
}
