/**
 * The systems under test, side by side in one run: (a) the mock upstream itself, (b) the minimal
 * passthrough Worker and (c) the gateway, both on workerd via Miniflare (never behind `wrangler
 * dev`, whose proxy adds milliseconds and stalls under load), plus a calibration worker between
 * (b) and (c). Each worker target runs in its own workerd process, so its memory can be read on
 * its own, and only one target is loaded at a time.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";
import { startGateway } from "../test/support/gateway.ts";
import { childPids } from "./proc.ts";
import type { TargetKind } from "./routes.ts";

/** One system the client sends streams to. */
export interface Target {
  /** Column name in the table and key in the JSON. */
  readonly id: string;
  readonly kind: TargetKind;
  /** Origin like `http://127.0.0.1:PORT`, no trailing slash. */
  readonly origin: string;
  /** The workerd process serving it (for memory); undefined for the direct target. */
  readonly pid: number | undefined;
  dispose(): Promise<void>;
}

/** Compatibility date and flags of wrangler.toml, so the passthrough runs on the gateway's runtime. */
function wranglerCompatibility(): { compatibilityDate: string; compatibilityFlags: string[] } {
  const toml = readFileSync(path.resolve(process.cwd(), "wrangler.toml"), "utf8");
  const date = /^compatibility_date\s*=\s*"([^"]+)"/m.exec(toml)?.[1];
  if (date === undefined) throw new Error("wrangler.toml has no compatibility_date");
  const flags = /^compatibility_flags\s*=\s*\[([^\]]*)\]/m.exec(toml)?.[1] ?? "";
  return {
    compatibilityDate: date,
    compatibilityFlags: [...flags.matchAll(/"([^"]+)"/g)].map((m) => m[1] ?? ""),
  };
}

/**
 * Runs `start` and returns the workerd process it spawned: Miniflare spawns workerd as a direct
 * child of this process, so the new child named "workerd" is this target's runtime.
 */
async function withWorkerdPid<T>(start: () => Promise<T>): Promise<{ value: T; pid: number | undefined }> {
  const before = new Set(childPids(process.pid, "workerd"));
  const value = await start();
  const spawned = childPids(process.pid, "workerd").filter((p) => !before.has(p));
  return { value, pid: spawned.length === 1 ? spawned[0] : undefined };
}

function originOf(url: URL | string): string {
  return new URL(url).origin;
}

/** (a) Straight to the mock: the baseline every "added" figure subtracts. */
export function directTarget(mockOrigin: string): Target {
  return { id: "direct", kind: "direct", origin: mockOrigin, pid: undefined, dispose: async () => {} };
}

/** A one-file worker from bench/ on workerd with `UPSTREAM` pointing at the mock. */
async function scriptTarget(
  id: string,
  kind: TargetKind,
  script: string,
  mockOrigin: string,
): Promise<Target> {
  const { value: mf, pid } = await withWorkerdPid(async () => {
    const miniflare = new Miniflare(
      convertV4MiniflareOptions({
        scriptPath: path.resolve(process.cwd(), "bench", script),
        modules: true,
        ...wranglerCompatibility(),
        bindings: { UPSTREAM: mockOrigin },
        host: "127.0.0.1",
        port: 0,
      }),
    );
    await miniflare.ready;
    return miniflare;
  });
  const url = await mf.ready;
  return { id, kind, origin: originOf(url), pid, dispose: () => mf.dispose() };
}

/** (b) bench/passthrough-worker.js: `return fetch(upstream)`, no JavaScript per chunk. */
export function passthroughTarget(mockOrigin: string): Promise<Target> {
  return scriptTarget("passthrough", "passthrough", "passthrough-worker.js", mockOrigin);
}

/**
 * Calibration: bench/js-stage-worker.js, the passthrough plus one JS TransformStream. Routed like
 * the passthrough (same paths, same upstream format).
 */
export function jsStageTarget(mockOrigin: string): Promise<Target> {
  return scriptTarget("js-stage", "passthrough", "js-stage-worker.js", mockOrigin);
}

/**
 * (c) The gateway bundle on workerd with every provider pointed at the mock. `id` and `bindings`
 * let later rows add variants (e.g. `gateway-observe` with `GUARDRAIL_MODE: "observe"`).
 */
export async function gatewayTarget(
  mockOrigin: string,
  id = "gateway",
  bindings: Record<string, string> = {},
): Promise<Target> {
  const { value: gw, pid } = await withWorkerdPid(() =>
    startGateway({
      OPENAI_BASE_URL: `${mockOrigin}/openai/v1`,
      ANTHROPIC_BASE_URL: `${mockOrigin}/anthropic`,
      GEMINI_BASE_URL: `${mockOrigin}/gemini`,
      OPENAI_API_KEY: "sk-bench",
      ANTHROPIC_API_KEY: "sk-ant-bench",
      GEMINI_API_KEY: "AIza-bench",
      ...bindings,
    }),
  );
  return { id, kind: "gateway", origin: originOf(gw.url), pid, dispose: () => gw.dispose() };
}
