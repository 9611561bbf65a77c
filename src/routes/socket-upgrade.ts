import { CREDENTIAL_HEADER } from "../auth/credentials.ts";
import { authenticate, type Principal } from "../auth/principal.ts";
import { checkRateLimit } from "../auth/rate-limit.ts";
import { RESUME_TOKEN_PARAM } from "../auth/resume-token.ts";
import type { Env } from "../env.ts";
import { GatewayError } from "../errors.ts";
import { originRefused, parseCorsPolicy } from "../http/cors.ts";
import { ERROR_CODE } from "../protocol.ts";

/** Headers of the upgrade that belong to the socket itself, not to the requests made on it. */
const SOCKET_HEADERS = /^(?:upgrade|connection|sec-websocket-.*|content-length|content-type|x-resumable)$/i;

/** Who opened a socket, and the headers its requests act with. */
export interface Upgrade {
  readonly principal: Principal;
  readonly headers: Headers;
}

/**
 * The credentials a socket acts with: the upgrade's own headers (minus the socket's), and, since a
 * browser cannot set headers on a WebSocket, a browser token in `?token=` as the bearer when no
 * header carries a credential.
 */
function socketHeaders(request: Request): Headers {
  const headers = new Headers();
  for (const [name, value] of request.headers) if (!SOCKET_HEADERS.test(name)) headers.set(name, value);
  const token = new URL(request.url).searchParams.get(RESUME_TOKEN_PARAM);
  const hasCredential = Object.values(CREDENTIAL_HEADER).some((h) => (headers.get(h) ?? "").trim() !== "");
  if (token !== null && token !== "" && !hasCredential)
    headers.set(CREDENTIAL_HEADER.authorization, `Bearer ${token}`);
  return headers;
}

/** True for a request asking to become a WebSocket. */
export function isUpgrade(request: Request): boolean {
  return (request.headers.get("upgrade") ?? "").toLowerCase() === "websocket";
}

/**
 * Everything that can refuse a socket, decided before it is accepted, as plain HTTP answers: no
 * upgrade (426), an origin `ALLOWED_ORIGINS` does not allow (403), missing or wrong credentials
 * (401), the rate limit (429; the upgrade counts as one request).
 */
export async function admitUpgrade(request: Request, env: Env): Promise<Upgrade> {
  if (!isUpgrade(request))
    throw new GatewayError(
      426,
      ERROR_CODE.upgradeRequired,
      "this route is a WebSocket: send Upgrade: websocket",
      {
        upgrade: "websocket",
      },
    );
  if (originRefused(request, parseCorsPolicy(env.ALLOWED_ORIGINS)))
    throw new GatewayError(
      403,
      ERROR_CODE.forbidden,
      "this origin may not open the gateway's WebSocket (ALLOWED_ORIGINS)",
    );
  const headers = socketHeaders(request);
  const authed = new Request(request.url, { headers });
  const principal = await authenticate(authed, env);
  await checkRateLimit(authed, env, principal);
  return { principal, headers };
}

/** A new socket pair with the server end accepted. */
export function acceptedPair(): { readonly client: WebSocket; readonly server: WebSocket } {
  const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
  server.accept();
  return { client, server };
}

/**
 * Wires an accepted socket to what serves it, and answers the upgrade: each message to `onMessage`;
 * a close or an error to `onClose`, then the server side is closed too (it may be already).
 */
export function serveSocket(
  pair: { readonly client: WebSocket; readonly server: WebSocket },
  onMessage: (data: string | ArrayBuffer) => void,
  onClose: () => void,
): Response {
  const { client, server } = pair;
  server.addEventListener("message", (event) => onMessage(event.data));
  const closed = () => {
    onClose();
    try {
      server.close();
    } catch {
      // Already closed.
    }
  };
  server.addEventListener("close", closed);
  server.addEventListener("error", closed);
  return new Response(null, { status: 101, webSocket: client });
}
