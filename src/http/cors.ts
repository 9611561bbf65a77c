import { HEADER } from "../protocol.ts";

/** Response headers a browser page may read: the stream id for resuming, timings, request ids, the UI stream version. */
const EXPOSED = [
  HEADER.streamId,
  HEADER.resumeToken,
  HEADER.serverTiming,
  HEADER.requestId,
  HEADER.retryAfter,
  HEADER.gatewayTarget,
  HEADER.gatewayAttempts,
  HEADER.uiMessageStream,
  "request-id",
];

/** Which cross-origin pages may call the gateway, from `ALLOWED_ORIGINS`. */
export interface CorsPolicy {
  /** `*` allows every origin (only when configured so); otherwise the exact origins listed. */
  readonly any: boolean;
  readonly origins: ReadonlySet<string>;
}

/** Parses `ALLOWED_ORIGINS`: empty means same-origin only; `*` any origin; else a comma-separated list. */
export function parseCorsPolicy(value: string | undefined): CorsPolicy {
  // Parsed once per isolate for the value it runs with, not once per request.
  if (lastPolicy !== undefined && lastPolicy.value === value) return lastPolicy.policy;
  const policy = parsePolicy(value);
  lastPolicy = { value, policy };
  return policy;
}

let lastPolicy: { readonly value: string | undefined; readonly policy: CorsPolicy } | undefined;

function parsePolicy(value: string | undefined): CorsPolicy {
  const items = (value ?? "")
    .split(",")
    .map((s) => s.trim().replace(/\/$/, ""))
    .filter((s) => s !== "");
  return { any: items.includes("*"), origins: new Set(items.filter((s) => s !== "*")) };
}

function allowedOrigin(request: Request, policy: CorsPolicy): string | undefined {
  const origin = request.headers.get("origin");
  if (origin === null) return undefined;
  if (origin === new URL(request.url).origin) return origin;
  if (policy.any) return "*";
  return policy.origins.has(origin) ? origin : undefined;
}

/**
 * True when a request carries an `Origin` that may not call the gateway. WebSockets have no CORS:
 * the browser opens any socket and sends its page's origin, so the upgrade checks it itself. A
 * request without `Origin` (a server, a CLI) is not refused for it.
 */
export function originRefused(request: Request, policy: CorsPolicy): boolean {
  return request.headers.get("origin") !== null && allowedOrigin(request, policy) === undefined;
}

/**
 * Answers a CORS preflight. A page from an origin that is not allowed gets a 403 without any
 * `access-control-allow-*` header, so the browser refuses the real request.
 */
export function preflight(request: Request, policy: CorsPolicy): Response {
  const origin = allowedOrigin(request, policy);
  const headers = new Headers({ vary: "Origin" });
  if (origin === undefined) return new Response(null, { status: 403, headers });
  headers.set("access-control-allow-origin", origin);
  headers.set("access-control-allow-methods", "GET, POST, DELETE, OPTIONS");
  // The SDKs send their own headers (x-stainless-*, anthropic-version...): allow what the page asks for,
  // since the origin is already trusted; credentials are still checked on the real request.
  const requested = request.headers.get("access-control-request-headers");
  if (requested !== null && /^[\w\-, ]{0,2000}$/.test(requested))
    headers.set("access-control-allow-headers", requested);
  headers.set("access-control-max-age", "600");
  return new Response(null, { status: 204, headers });
}

/**
 * Adds the CORS headers to a response for an allowed origin; `Vary: Origin` always, for caches. A
 * response the gateway built itself has mutable headers and gets them in place: re-wrapping it in a
 * new `Response` measured about 0.07 ms of the plain gateway's added TTFT on workerd. One
 * from `fetch` (a passthrough, a Durable Object's stream) has immutable headers and is re-wrapped.
 * Every call gets a response no other request holds (the router builds one per request), so headers
 * set in place never pile up across requests.
 */
export function withCors(request: Request, response: Response, policy: CorsPolicy): Response {
  // A 101 carries its WebSocket and cannot be re-wrapped; the upgrade checked the origin itself.
  if (response.status === 101) return response;
  const origin = allowedOrigin(request, policy);
  try {
    setCors(response.headers, origin);
    return response;
  } catch (err) {
    // Immutable headers throw before any change (the first call is the one that throws).
    if (!(err instanceof TypeError)) throw err;
  }
  const res = new Response(response.body, response);
  setCors(res.headers, origin);
  return res;
}

function setCors(headers: Headers, origin: string | undefined): void {
  headers.append("vary", "Origin");
  if (origin === undefined) return;
  headers.set("access-control-allow-origin", origin);
  headers.set("access-control-expose-headers", EXPOSED_LIST);
}

const EXPOSED_LIST = EXPOSED.join(", ");
