import { Router } from "itty-router";
import type { Env } from "./env.ts";
import { errorResponse, GatewayError } from "./errors.ts";
import { ERROR_CODE, type ErrorShape } from "./protocol.ts";
import { handleChat } from "./routes/chat.ts";
import { handleHealth } from "./routes/health.ts";
import { handleModels } from "./routes/models.ts";
import { handleNative } from "./routes/native.ts";
import { handleCancel, handleResume, handleStatus } from "./routes/streams.ts";
import { CLIENT_JS, INDEX_HTML } from "./static/files.gen.ts";
import { type StaticFile, serveStatic } from "./static/static-file.ts";
import { ConfigError } from "./upstream/providers.ts";

type Args = [Env, ExecutionContext];

/** Paths owned by the gateway itself; a provider cannot be named like them. */
const GATEWAY_PREFIXES = new Set(["v1", "healthz", "client.js", "index.html"]);

/** Error shape for a path: native routes answer in their provider family's format, the rest in OpenAI's. */
function shapeFor(pathname: string): ErrorShape {
  const first = pathname.split("/")[1] ?? "";
  if (first === "anthropic") return "anthropic";
  if (first === "gemini") return "gemini";
  return "openai";
}

/** The `{id}` of `/v1/streams/{id}[/status]`. */
function streamIdOf(req: Request): string {
  return new URL(req.url).pathname.split("/")[3] ?? "";
}

/** GET or HEAD of a file the gateway serves itself (the demo page, the browser client). */
function staticFile(req: Request, file: StaticFile): Response {
  if (req.method !== "GET" && req.method !== "HEAD") methodNotAllowed("GET, HEAD");
  return serveStatic(req, file);
}

function methodNotAllowed(allow: string): never {
  throw new GatewayError(405, ERROR_CODE.methodNotAllowed, `method not allowed; use ${allow}`, { allow });
}

/** Turns any error into a wire response in the caller's format; unexpected errors are logged, never echoed. */
function toResponse(err: unknown, request: Request): Response {
  const shape = shapeFor(new URL(request.url).pathname);
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
  router.all("/:provider/v1*", () => methodNotAllowed("POST"));
  router.all("/gemini/v1beta/*", () => methodNotAllowed("POST"));
  router.all("/", (req) => staticFile(req, INDEX_HTML));
  router.all("/index.html", (req) => staticFile(req, INDEX_HTML));
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
