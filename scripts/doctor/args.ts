/** Command-line arguments of `npm run doctor`, parsed into options or one error message. */

/** What the doctor was asked to do. */
export interface DoctorOptions {
  /** The endpoint probed: `<url>/v1/chat/completions`. */
  readonly endpoint: URL;
  /** Sent as `Authorization: Bearer`; never printed. */
  readonly key: string | undefined;
  readonly pauseMs: number;
  readonly json: boolean;
  readonly events: number;
  readonly intervalMs: number;
  readonly payloadBytes: number;
}

/** The parsed command line. */
export type ArgsResult =
  | { readonly kind: "run"; readonly options: DoctorOptions }
  | { readonly kind: "help" }
  | { readonly kind: "error"; readonly message: string };

/** Default probe length: enough gaps for the coalescing rule, short enough to wait for (~2 s). */
export const DEFAULT_EVENTS = 12;
/** Default cadence: long enough between events that no healthy network merges two of them. */
export const DEFAULT_INTERVAL_MS = 150;

// Below ~20 ms apart, a healthy path's own jitter (TCP, event loops) merges events and the
// classifier could no longer tell buffering from noise.
const MIN_INTERVAL_MS = 20;
const MAX_INTERVAL_MS = 10_000;
const MIN_EVENTS = 5;
const MAX_EVENTS = 200;
const MAX_PAYLOAD_BYTES = 16_384;
/** Ten minutes: longer than every idle timeout in docs/proxies.md (Envoy's 5 minutes is the longest). */
const MAX_PAUSE_MS = 600_000;

/** Printed for `--help` and after a usage error. */
export const USAGE = `usage: npm run doctor -- <url> [--key K] [--pause 75s] [--json] [--events N] [--interval MS] [--payload BYTES]
Probes <url>/v1/chat/completions (a gateway, or anything in front of it) with the demo/probe model and
reports, for a request that accepts compression and one that does not, whether events arrive one by one.
  <url>        the gateway's base URL (https://gateway.example or http://localhost:8787)
  --key        a gateway key or browser token (default: $GATEWAY_KEY; prefer the variable, since
               npm prints every argument it runs)
  --pause      add a silent pause of this length mid-stream to find idle timeouts: 75s, 2m, 500ms
  --json       print one JSON document on stdout (use npm run -s doctor -- ... --json)
  --events     probe events per request (default ${DEFAULT_EVENTS}, ${MIN_EVENTS} to ${MAX_EVENTS})
  --interval   milliseconds between events (default ${DEFAULT_INTERVAL_MS}, ${MIN_INTERVAL_MS} to ${MAX_INTERVAL_MS})
  --payload    letters of padding per event, to find buffers that flush when full (default 0)
Exit status: 0 the path streams, 1 it buffers, compresses or cuts, 2 wrong arguments, 3 no probe
could run (the URL does not answer, is not a gateway, or refuses the key).`;

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000 };

/** Parses `75s`, `2m`, `500ms` (a bare number is seconds) into milliseconds; undefined if malformed. */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d{1,7}(?:\.\d{1,3})?)(ms|s|m)?$/.exec(text.trim());
  if (m === null) return undefined;
  return Math.round(Number(m[1]) * (UNIT_MS[m[2] ?? "s"] ?? 1000));
}

const VALUE_FLAGS = new Set(["--key", "--pause", "--events", "--interval", "--payload"]);

function intIn(text: string, name: string, min: number, max: number): number | string {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > max) return `${name} must be an integer from ${min} to ${max}`;
  return n;
}

/** Turns the base URL into the probed endpoint; a full `/chat/completions` URL is kept as given. */
export function endpointOf(text: string): URL | string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `${JSON.stringify(text)} is not a URL (try https://gateway.example or http://localhost:8787)`;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return `${url.protocol} URLs are not supported`;
  if (url.username !== "" || url.password !== "")
    return "put the key in --key or $GATEWAY_KEY, not in the URL";
  if (!url.pathname.endsWith("/chat/completions")) {
    url.pathname = `${url.pathname.replace(/\/+$/, "")}/v1/chat/completions`;
  }
  return url;
}

/** Parses argv (after the script name); `env` supplies `GATEWAY_KEY`. */
export function parseArgs(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): ArgsResult {
  const flags = new Map<string, string>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (arg === "--help" || arg === "-h") return { kind: "help" };
    if (arg === "--json") {
      flags.set(arg, "");
      continue;
    }
    if (!arg.startsWith("--")) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = eq === -1 ? arg : arg.slice(0, eq);
    if (!VALUE_FLAGS.has(name)) return { kind: "error", message: `unknown argument ${JSON.stringify(arg)}` };
    const value = eq === -1 ? argv[++i] : arg.slice(eq + 1);
    if (value === undefined || value === "") return { kind: "error", message: `${name} needs a value` };
    flags.set(name, value);
  }
  if (positional.length !== 1) {
    return {
      kind: "error",
      message: positional.length === 0 ? "the URL to probe is missing" : "give exactly one URL",
    };
  }
  const endpoint = endpointOf(positional[0] ?? "");
  if (typeof endpoint === "string") return { kind: "error", message: endpoint };

  let pauseMs = 0;
  const pause = flags.get("--pause");
  if (pause !== undefined) {
    const ms = parseDuration(pause);
    if (ms === undefined || ms < 1 || ms > MAX_PAUSE_MS) {
      return { kind: "error", message: "--pause must be a duration from 1ms to 10m, like 75s" };
    }
    pauseMs = ms;
  }
  const events = intIn(flags.get("--events") ?? String(DEFAULT_EVENTS), "--events", MIN_EVENTS, MAX_EVENTS);
  if (typeof events === "string") return { kind: "error", message: events };
  const intervalMs = intIn(
    flags.get("--interval") ?? String(DEFAULT_INTERVAL_MS),
    "--interval",
    MIN_INTERVAL_MS,
    MAX_INTERVAL_MS,
  );
  if (typeof intervalMs === "string") return { kind: "error", message: intervalMs };
  const payloadBytes = intIn(flags.get("--payload") ?? "0", "--payload", 0, MAX_PAYLOAD_BYTES);
  if (typeof payloadBytes === "string") return { kind: "error", message: payloadBytes };
  const key = flags.get("--key") ?? (env.GATEWAY_KEY || undefined);
  return {
    kind: "run",
    options: { endpoint, key, pauseMs, json: flags.has("--json"), events, intervalMs, payloadBytes },
  };
}
