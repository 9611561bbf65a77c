import { Router } from "itty-router";
import { configFor } from "./config.ts";
import type { Env } from "./env.ts";
import { ConfigError, errorResponse, GatewayError } from "./errors.ts";
import { ERROR_CODE, type ErrorShape } from "./protocol.ts";
import { handleChat } from "./routes/chat.ts";
import { handleHealth } from "./routes/health.ts";
import { handleModels } from "./routes/models.ts";
import { handleNative } from "./routes/native.ts";
import { handleResponsesSocket } from "./routes/responses-ws.ts";
import { isUpgrade } from "./routes/socket-upgrade.ts";
import { handleCancel, handleResume, handleStatus } from "./routes/streams.ts";
import { handleUiChat, handleUiChatStream } from "./routes/ui-chat.ts";
import { handleWebSocket } from "./routes/ws.ts";
import { CLIENT_JS, DEMO_JS, INDEX_HTML } from "./static/files.gen.ts";
import { type StaticFile, serveStatic } from "./static/static-file.ts";
import type { ApiFamily } from "./upstream/providers.ts";
import { FAMILIES } from "./upstream/registry.ts";

type Args = [Env, ExecutionContext];

/**
 * What the routes match on: the request's method and path, read once, and the request itself. The
 * router reads `method` once per route it tries and sets `params`/`query`/`route` on what it routes: on
 * a plain object these are plain properties, where on the runtime's Request each read of `method` is a
 * call into the runtime and each set adds a property to a host object.
 */
interface Routed {
  readonly method: string;
  readonly url: string;
  readonly pathname: string;
  readonly request: Request;
}

/** Paths owned by the gateway itself; a provider cannot be named like them. */
const GATEWAY_PREFIXES = new Set(["v1", "healthz", "client.js", "demo.js", "index.html"]);

/**
 * Error shape for a request: a native route (`/<provider>/...`) answers in its provider's family's
 * format, a custom Anthropic-family provider included; the gateway's own routes in OpenAI's. With a
 * configuration too broken to read, the path's first segment names the family if it is a built-in one.
 */
function shapeFor(pathname: string, env: Env): ErrorShape {
  const first = pathname.split("/")[1] ?? "";
  if (GATEWAY_PREFIXES.has(first)) return "openai";
  let family: ApiFamily | undefined;
  try {
    family = configFor(env).providers.get(first)?.family;
  } catch {
    family = Object.hasOwn(FAMILIES, first) ? (first as ApiFamily) : undefined;
  }
  return family === undefined ? "openai" : FAMILIES[family].errorShape;
}

/** The `{id}` of `/v1/streams/{id}[/status]`. */
function streamIdOf(r: Routed): string {
  return r.pathname.split("/")[3] ?? "";
}

/** The `{id}` of `/v1/ui/chat/{id}/stream`, as the client percent-encoded it. */
function chatIdOf(r: Routed): string {
  const raw = r.pathname.split("/")[4] ?? "";
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/** GET or HEAD of a file the gateway serves itself (the demo page and its script, the browser client). */
function staticFile(r: Routed, file: StaticFile): Response {
  if (r.method !== "GET" && r.method !== "HEAD") methodNotAllowed("GET, HEAD");
  return serveStatic(r.request, file);
}

function methodNotAllowed(allow: string): never {
  throw new GatewayError(405, ERROR_CODE.methodNotAllowed, `method not allowed; use ${allow}`, { allow });
}

/** Turns any error into a wire response in the caller's format; unexpected errors are logged, never echoed. */
function toResponse(err: unknown, r: Routed, env: Env): Response {
  const shape = shapeFor(r.pathname, env);
  if (err instanceof ConfigError) {
    return errorResponse(
      new GatewayError(500, ERROR_CODE.internal, `gateway misconfigured: ${err.message}`),
      shape,
    );
  }
  if (!(err instanceof GatewayError))
    console.error(JSON.stringify({ msg: "unhandled error", error: String(err) }));
  return errorResponse(err, shape);
}

/** The gateway's routes. Each handler is one line here; the work lives in routes/. */
export function createRouter() {
  const router = Router<Routed, Args>();
  router.get("/healthz", (_r, env) => handleHealth(env));
  router.post("/v1/chat/completions", (r, env) => handleChat(r.request, env));
  router.get("/v1/models", (_r, env) => handleModels(env));
  router.all("/v1/chat/completions", () => methodNotAllowed("POST"));
  router.all("/v1/models", () => methodNotAllowed("GET"));
  router.post("/v1/ui/chat", (r, env) => handleUiChat(r.request, env));
  router.all("/v1/ui/chat", () => methodNotAllowed("POST"));
  router.get("/v1/ui/chat/:id/stream", (r, env) => handleUiChatStream(r.request, env, chatIdOf(r)));
  router.all("/v1/ui/chat/:id/stream", () => methodNotAllowed("GET"));
  router.get("/v1/ws", (r, env) => handleWebSocket(r.request, env));
  router.all("/v1/ws", () => methodNotAllowed("GET"));
  router.get("/v1/streams/:id/status", (r, env) => handleStatus(r.request, env, streamIdOf(r)));
  router.all("/v1/streams/:id/status", () => methodNotAllowed("GET"));
  router.get("/v1/streams/:id", (r, env) => handleResume(r.request, env, streamIdOf(r)));
  router.delete("/v1/streams/:id", (r, env) => handleCancel(r.request, env, streamIdOf(r)));
  router.all("/v1/streams/:id", () => methodNotAllowed("GET, DELETE"));
  router.post("/:provider/*", (r, env) => {
    const { pathname } = r;
    const provider = pathname.split("/")[1] ?? "";
    if (GATEWAY_PREFIXES.has(provider))
      throw new GatewayError(404, ERROR_CODE.notFound, `no route for POST ${pathname.slice(0, 100)}`);
    return handleNative(r.request, env, provider, pathname.slice(provider.length + 1));
  });
  router.get("/:provider/v1/responses", (r, env) => {
    const provider = r.pathname.split("/")[1] ?? "";
    if (GATEWAY_PREFIXES.has(provider) || !isUpgrade(r.request)) methodNotAllowed("POST");
    return handleResponsesSocket(r.request, env, provider);
  });
  router.all("/:provider/v1*", () => methodNotAllowed("POST"));
  router.all("/gemini/v1beta/*", () => methodNotAllowed("POST"));
  router.all("/", (r) => staticFile(r, INDEX_HTML));
  router.all("/index.html", (r) => staticFile(r, INDEX_HTML));
  router.all("/demo.js", (r) => staticFile(r, DEMO_JS));
  router.all("/client.js", (r) => staticFile(r, CLIENT_JS));
  router.all("*", (r) => {
    throw new GatewayError(404, ERROR_CODE.notFound, `no route for ${r.method} ${r.pathname.slice(0, 100)}`);
  });
  return {
    /** Answers `request`: its method and path are read once, for every route tried. */
    async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
      const { method, url } = request;
      const routed: Routed = { method, url, pathname: new URL(url).pathname, request };
      try {
        return await router.fetch(routed, env, ctx);
      } catch (err) {
        return toResponse(err, routed, env);
      }
    },
  };
}
