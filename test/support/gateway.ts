import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";

/** Where the bundle for local runs is written (what `wrangler deploy` would upload). */
export const BUNDLE_DIR = path.resolve(process.cwd(), "dist/local");

/** Environment for wrangler: no telemetry, no Request.cf download (this machine is offline). */
const WRANGLER_ENV = { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false" };

/** Bundles the worker exactly as `wrangler deploy` does (running wrangler.toml's [build] first), into BUNDLE_DIR. */
export function buildWorker(): void {
  execFileSync("npx", ["wrangler", "deploy", "--dry-run", "--outdir", BUNDLE_DIR, "--env="], {
    env: WRANGLER_ENV,
    stdio: ["ignore", "ignore", "inherit"],
  });
}

/** The `[vars]` and compatibility date of wrangler.toml, so local runs match the deployed defaults. */
function wranglerDefaults(): {
  compatibilityDate: string;
  compatibilityFlags: string[];
  vars: Record<string, string>;
} {
  const toml = readFileSync(path.resolve(process.cwd(), "wrangler.toml"), "utf8");
  const date = /^compatibility_date\s*=\s*"([^"]+)"/m.exec(toml)?.[1];
  if (date === undefined) throw new Error("wrangler.toml has no compatibility_date");
  const flags = /^compatibility_flags\s*=\s*\[([^\]]*)\]/m.exec(toml)?.[1] ?? "";
  const compatibilityFlags = [...flags.matchAll(/"([^"]+)"/g)].map((m) => m[1] ?? "");
  const vars: Record<string, string> = {};
  const section = /^\[vars\]\n([\s\S]*?)(?=^\[|$(?![\s\S]))/m.exec(toml)?.[1] ?? "";
  for (const m of section.matchAll(/^([A-Z_][A-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"/gm)) {
    if (m[1] !== undefined && m[2] !== undefined) vars[m[1]] = m[2].replace(/\\"/g, '"');
  }
  return { compatibilityDate: date, compatibilityFlags, vars };
}

/** A gateway running on workerd (Miniflare, no wrangler dev proxy in front). */
export interface LocalGateway {
  readonly url: URL;
  readonly miniflare: Miniflare;
  dispose(): Promise<void>;
}

/** Starts the bundled worker on a free loopback port with wrangler.toml's vars overridden by `bindings`. */
export async function startGateway(
  bindings: Record<string, string> = {},
  rateLimits: Record<string, { limit: number; period: 10 | 60 }> = {},
): Promise<LocalGateway> {
  const { compatibilityDate, compatibilityFlags, vars } = wranglerDefaults();
  const miniflare = new Miniflare(
    convertV4MiniflareOptions({
      scriptPath: path.join(BUNDLE_DIR, "index.js"),
      modules: true,
      compatibilityDate,
      compatibilityFlags,
      // Suites about other things than auth run with anonymous access to every model; auth suites override it.
      bindings: {
        ...vars,
        ALLOW_ANONYMOUS: "true",
        ANONYMOUS_MODELS: "*",
        MAX_OPEN_STREAMS: "0",
        ...bindings,
      },
      analyticsEngineDatasets: { TTFT: { dataset: "llm_gateway_ttft" } },
      durableObjects: {
        STREAMS: { className: "StreamObject", useSQLite: true },
        PRINCIPALS: { className: "PrincipalObject", useSQLite: true },
        CHATS: { className: "ChatObject", useSQLite: true },
      },
      ratelimits: Object.fromEntries(
        Object.entries(rateLimits).map(([name, simple], i) => [
          name,
          { namespace_id: String(1000 + i), simple },
        ]),
      ),
      host: "127.0.0.1",
      port: 0,
    }),
  );
  const url = await miniflare.ready;
  return { url, miniflare, dispose: () => miniflare.dispose() };
}
