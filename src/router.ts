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
function streamIdOf(req: Request): string {
  return new URL(req.url).pathname.split("/")[3] ?? "";
}

/** The `{id}` of `/v1/ui/chat/{id}/stream`, as the client percent-encoded it. */
function chatIdOf(req: Request): string {
  const raw = new URL(req.url).pathname.split("/")[4] ?? "";
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/** GET or HEAD of a file the gateway serves itself (the demo page and its script, the browser client). */
function staticFile(req: Request, file: StaticFile): Response {
  if (req.method !== "GET" && req.method !== "HEAD") methodNotAllowed("GET, HEAD");
  return serveStatic(req, file);
}

function methodNotAllowed(allow: string): never {
  throw new GatewayError(405, ERROR_CODE.methodNotAllowed, `method not allowed; use ${allow}`, { allow });
}

/** Turns any error into a wire response in the caller's format; unexpected errors are logged, never echoed. */
function toResponse(err: unknown, request: Request, env: Env): Response {
  const shape = shapeFor(new URL(request.url).pathname, env);
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
  const router = Router<Request, Args>({ catch: toResponse });
  router.get("/healthz", (_req, env) => handleHealth(env));
  router.post("/v1/chat/completions", (req, env) => handleChat(req, env));
  router.get("/v1/models", (_req, env) => handleModels(env));
  router.all("/v1/chat/completions", () => methodNotAllowed("POST"));
  router.all("/v1/models", () => methodNotAllowed("GET"));
  router.post("/v1/ui/chat", (req, env) => handleUiChat(req, env));
  router.all("/v1/ui/chat", () => methodNotAllowed("POST"));
  router.get("/v1/ui/chat/:id/stream", (req, env) => handleUiChatStream(req, env, chatIdOf(req)));
  router.all("/v1/ui/chat/:id/stream", () => methodNotAllowed("GET"));
  router.get("/v1/ws", (req, env) => handleWebSocket(req, env));
  router.all("/v1/ws", () => methodNotAllowed("GET"));
  router.get("/v1/streams/:id/status", (req, env) => handleStatus(req, env, streamIdOf(req)));
  router.all("/v1/streams/:id/status", () => methodNotAllowed("GET"));
  router.get("/v1/streams/:id", (req, env) => handleResume(req, env, streamIdOf(req)));
  router.delete("/v1/streams/:id", (req, env) => handleCancel(req, env, streamIdOf(req)));
  router.all("/v1/streams/:id", () => methodNotAllowed("GET, DELETE"));
  router.post("/:provider/*", (req, env) => {
    const { pathname } = new URL(req.url);
    const provider = pathname.split("/")[1] ?? "";
    if (GATEWAY_PREFIXES.has(provider))
      throw new GatewayError(404, ERROR_CODE.notFound, `no route for POST ${pathname.slice(0, 100)}`);
    return handleNative(req, env, provider, pathname.slice(provider.length + 1));
  });
  router.get("/:provider/v1/responses", (req, env) => {
    const provider = new URL(req.url).pathname.split("/")[1] ?? "";
    if (GATEWAY_PREFIXES.has(provider) || !isUpgrade(req)) methodNotAllowed("POST");
    return handleResponsesSocket(req, env, provider);
  });
  router.all("/:provider/v1*", () => methodNotAllowed("POST"));
  router.all("/gemini/v1beta/*", () => methodNotAllowed("POST"));
  router.all("/", (req) => staticFile(req, INDEX_HTML));
  router.all("/index.html", (req) => staticFile(req, INDEX_HTML));
  router.all("/demo.js", (req) => staticFile(req, DEMO_JS));
  router.all("/client.js", (req) => staticFile(req, CLIENT_JS));
  router.all("*", (req) => {
    throw new GatewayError(
      404,
      ERROR_CODE.notFound,
      `no route for ${req.method} ${new URL(req.url).pathname.slice(0, 100)}`,
    );
  });
  return router;
}
