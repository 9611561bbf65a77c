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
import { objectNameOf } from "../src/resumable/stream-id.ts";
import { BUNDLE_DIR, startGateway } from "../test/support/gateway.ts";
import { presentKeys } from "./client.ts";
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
  /** Gateway targets: evicts the Durable Object of a stream, as a deploy or a crash would. */
  readonly evictStream?: (streamId: string) => Promise<void>;
  /** Storage-probe targets only: the number of `event_batch` rows a stream's object has written. */
  readonly storedRows?: (streamId: string) => Promise<number>;
  dispose(): Promise<void>;
}

/** The gateway's stream Durable Object class (wrangler.toml `[[durable_objects.bindings]]`). */
const STREAM_OBJECT_CLASS = "StreamObject";
/**
 * The gateway's script name inside Miniflare: test/support/gateway.ts gives the worker no name,
 * which Miniflare's dev-control API addresses as "".
 */
const GATEWAY_SCRIPT = "";

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

/** wrangler.toml's top-level `[vars]` (string values), the defaults a deployed gateway runs with. */
function wranglerVars(): Record<string, string> {
  const toml = readFileSync(path.resolve(process.cwd(), "wrangler.toml"), "utf8");
  const section = /^\[vars\]\n([\s\S]*?)(?=^\[|$(?![\s\S]))/m.exec(toml)?.[1] ?? "";
  const vars: Record<string, string> = {};
  for (const m of section.matchAll(/^([A-Z_][A-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"/gm)) {
    if (m[1] !== undefined && m[2] !== undefined) vars[m[1]] = m[2].replace(/\\"/g, '"');
  }
  return vars;
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

/** The Durable Object bindings of a bench worker: each class, SQLite-backed as the gateway's are. */
type ObjectBindings = Record<string, { readonly className: string; readonly useSQLite: true }>;

/**
 * A worker from bench/ on workerd with `UPSTREAM` pointing at the mock: `script`, and the bench/
 * modules it imports (`imports`; Miniflare loads only the modules it is given).
 */
async function scriptTarget(
  id: string,
  kind: TargetKind,
  script: string,
  mockOrigin: string,
  {
    durableObjects = {},
    imports = [],
  }: { durableObjects?: ObjectBindings; imports?: readonly string[] } = {},
): Promise<Target> {
  const bench = path.resolve(process.cwd(), "bench");
  const { value: mf, pid } = await withWorkerdPid(async () => {
    const miniflare = new Miniflare(
      convertV4MiniflareOptions({
        modulesRoot: bench,
        modules: [script, ...imports].map((file) => ({
          type: "ESModule" as const,
          path: path.join(bench, file),
        })),
        ...wranglerCompatibility(),
        bindings: { UPSTREAM: mockOrigin },
        durableObjects,
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
 * Calibration: bench/objects-floor-worker.js, one JS stage inside a Durable Object plus a call to a
 * second object at the same time: the two object calls of the default configuration (its stream host
 * and its principal's slot) with nothing else. Routed like the passthrough.
 */
export function objectsFloorTarget(mockOrigin: string): Promise<Target> {
  return scriptTarget("objects-floor", "passthrough", "objects-floor-worker.js", mockOrigin, {
    durableObjects: {
      HOSTS: { className: "HostObject", useSQLite: true },
      COUNTERS: { className: "CounterObject", useSQLite: true },
    },
    imports: ["js-stage-worker.js"],
  });
}

/** Every provider of the gateway pointed at the mock (each at the path prefix the mock serves it on). */
function upstreamBindings(mockOrigin: string): Record<string, string> {
  return {
    OPENAI_BASE_URL: `${mockOrigin}/openai/v1`,
    ANTHROPIC_BASE_URL: `${mockOrigin}/anthropic`,
    GEMINI_BASE_URL: `${mockOrigin}/gemini`,
    OPENAI_API_KEY: "sk-bench",
    ANTHROPIC_API_KEY: "sk-ant-bench",
    GEMINI_API_KEY: "AIza-bench",
    // The resilience rows' failing upstreams (bench/mock-server.ts): OpenAI-compatible, no key.
    PROVIDERS: JSON.stringify(
      ["down", "flaky", "slow", "dropper"].map((name) => ({
        name,
        baseUrl: `${mockOrigin}/${name}/v1`,
        format: "openai",
        // The dropper's continuation is a prefill, as a vLLM server's would be.
        ...(name === "dropper" ? { continuation: "prefill" } : {}),
      })),
    ),
  };
}

/**
 * (c) The gateway bundle on workerd (test/support/gateway.ts: wrangler.toml's vars, anonymous
 * access to every model, no rate limits) with every provider pointed at the mock. `id` and
 * `bindings` make variants (e.g. `gateway-observe` with `GUARDRAIL_MODE: "observe"`).
 */
export async function gatewayTarget(
  mockOrigin: string,
  id = "gateway",
  bindings: Record<string, string> = {},
): Promise<Target> {
  const { value: gw, pid } = await withWorkerdPid(() =>
    startGateway({ ...upstreamBindings(mockOrigin), ...bindings }),
  );
  return {
    id,
    kind: "gateway",
    origin: originOf(gw.url),
    pid,
    // The stream's host: evicting it ends every stream it holds (the bench evicts only once all have ended).
    evictStream: (streamId) =>
      gw.miniflare.unsafeEvictDurableObject(GATEWAY_SCRIPT, STREAM_OBJECT_CLASS, {
        name: objectNameOf(streamId),
      }),
    dispose: () => gw.dispose(),
  };
}

/**
 * Keys of the default targets: a deployed gateway refuses anonymous callers (wrangler.toml), so its
 * callers present keys, and each key is a principal with `MAX_OPEN_STREAMS` (20) open streams. 32
 * principals carry the 500-stream block (16 streams each) within that limit.
 */
const DEFAULT_CALLERS = 32;

/**
 * A gateway as wrangler.toml configures it, `bindings` aside: its anonymous-access and open-stream
 * settings are wrangler.toml's, not the test defaults `gatewayTarget` starts from (anonymous access to
 * every model, no open-stream limit), so every stream takes a slot in its principal's object as it
 * does in production. The callers are gateway keys, presented in turn by the client. The rate-limit
 * bindings stay out: 60 requests a minute per key would refuse the bench itself.
 */
export async function defaultsTarget(
  mockOrigin: string,
  id: string,
  bindings: Record<string, string> = {},
): Promise<Target> {
  const vars = wranglerVars();
  const keys = Array.from(
    { length: DEFAULT_CALLERS },
    (_, i) => `gw-bench-caller-${String(i).padStart(2, "0")}-0123456789`,
  );
  const target = await gatewayTarget(mockOrigin, id, {
    ALLOW_ANONYMOUS: vars.ALLOW_ANONYMOUS ?? "false",
    ANONYMOUS_MODELS: vars.ANONYMOUS_MODELS ?? "demo/*",
    MAX_OPEN_STREAMS: vars.MAX_OPEN_STREAMS ?? "20",
    GATEWAY_KEYS: JSON.stringify(keys.map((key, i) => ({ name: `caller-${i}`, key }))),
    ...bindings,
  });
  presentKeys(target.origin, keys);
  return target;
}

/**
 * The gateway with its stream objects' SQLite open to inspection, for counting stored rows (not
 * exposed over HTTP). Miniflare runs SQL in an object only with `unsafeInspectDurableObjects`,
 * which wraps the Durable Object class, so this is a separate instance, never a timed target.
 * It mirrors test/support/gateway.ts (same bundle, vars, Durable Object and Analytics Engine
 * bindings, anonymous access).
 */
export async function storageProbeTarget(
  mockOrigin: string,
  id: string,
  bindings: Record<string, string>,
): Promise<Target> {
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      scriptPath: path.join(BUNDLE_DIR, "index.js"),
      modules: true,
      ...wranglerCompatibility(),
      bindings: {
        ...wranglerVars(),
        ALLOW_ANONYMOUS: "true",
        ANONYMOUS_MODELS: "*",
        ...upstreamBindings(mockOrigin),
        ...bindings,
      },
      analyticsEngineDatasets: { TTFT: { dataset: "llm_gateway_ttft" } },
      durableObjects: { STREAMS: { className: STREAM_OBJECT_CLASS, useSQLite: true } },
      unsafeInspectDurableObjects: true,
      host: "127.0.0.1",
      port: 0,
    }),
  );
  const url = await mf.ready;
  return {
    id,
    kind: "gateway",
    origin: originOf(url),
    pid: undefined,
    storedRows: async (streamId) => {
      const storage = await mf.unsafeGetDurableObjectStorage(GATEWAY_SCRIPT, STREAM_OBJECT_CLASS, {
        name: objectNameOf(streamId),
      });
      const [row] = await storage.exec<{ n: number }>(
        "SELECT COUNT(*) AS n FROM event_batch WHERE stream_id = ?",
        streamId,
      );
      return row?.n ?? Number.NaN;
    },
    dispose: () => mf.dispose(),
  };
}
