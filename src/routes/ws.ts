import { CREDENTIAL_HEADER } from "../auth/credentials.ts";
import { authenticate } from "../auth/principal.ts";
import { checkRateLimit } from "../auth/rate-limit.ts";
import { RESUME_TOKEN_PARAM } from "../auth/resume-token.ts";
import { configFor } from "../config.ts";
import type { Env } from "../env.ts";
import { GatewayError } from "../errors.ts";
import { originRefused, parseCorsPolicy } from "../http/cors.ts";
import { ERROR_CODE, HEADER } from "../protocol.ts";
import { type SessionLimits, type SocketPort, SocketSession, type StreamOps } from "../socket/session.ts";
import { handleChat } from "./chat.ts";
import { handleCancel, handleResume } from "./streams.ts";

/** Headers of the upgrade that belong to the socket itself, not to the requests made on it. */
const SOCKET_HEADERS = /^(?:upgrade|connection|sec-websocket-.*|content-length|content-type|x-resumable)$/i;

/**
 * The credentials the socket acts with: the upgrade's own headers (minus the socket's), and, since a
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

/** The stream operations of one socket: the very route handlers the router calls, with the socket's credentials. */
function routeOps(env: Env, origin: string, headers: Headers): StreamOps {
  return {
    create(body, signal) {
      const h = new Headers(headers);
      h.set("content-type", "application/json");
      const req = new Request(`${origin}/v1/chat/completions`, {
        method: "POST",
        headers: h,
        body: JSON.stringify(body),
        signal,
      });
      return handleChat(req, env);
    },
    resume(stream, after, token, signal) {
      const h = new Headers(headers);
      h.set(HEADER.lastEventId, String(after));
      const url = new URL(`${origin}/v1/streams/${stream}`);
      if (token !== undefined) url.searchParams.set(RESUME_TOKEN_PARAM, token);
      return handleResume(new Request(url, { headers: h, signal }), env, stream);
    },
    cancel(stream, token) {
      const url = new URL(`${origin}/v1/streams/${stream}`);
      if (token !== undefined) url.searchParams.set(RESUME_TOKEN_PARAM, token);
      return handleCancel(new Request(url, { method: "DELETE", headers }), env, stream);
    },
  };
}

function socketPort(socket: WebSocket): SocketPort {
  return {
    send: (text) => socket.send(text),
    // workerd counts what send() queued and the network has not taken yet.
    buffered: () => (typeof socket.bufferedAmount === "number" ? socket.bufferedAmount : 0),
  };
}

/**
 * `GET /v1/ws`: one multiplexed, resumable socket for chat streams (docs/websocket.md). Everything
 * that can refuse the socket happens before it is accepted, as a plain HTTP answer: a missing upgrade
 * (426), an origin `ALLOWED_ORIGINS` does not list (403), missing or wrong credentials (401), the
 * rate limit (429).
 */
export async function handleWebSocket(request: Request, env: Env): Promise<Response> {
  if ((request.headers.get("upgrade") ?? "").toLowerCase() !== "websocket")
    throw new GatewayError(
      426,
      ERROR_CODE.upgradeRequired,
      "this route is a WebSocket: send Upgrade: websocket",
      {
        upgrade: "websocket",
      },
    );
  const config = configFor(env);
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
  if (!config.resumable || env.STREAMS === undefined)
    throw new GatewayError(
      503,
      ERROR_CODE.internal,
      "the WebSocket needs resumable streams (RESUMABLE=true and the STREAMS binding)",
    );
  const limits: SessionLimits = {
    ...config.socket,
    maxStreams:
      config.maxOpenStreams > 0
        ? Math.min(config.socket.maxStreams, config.maxOpenStreams)
        : config.socket.maxStreams,
  };
  const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
  server.accept();
  const session = new SocketSession(
    socketPort(server),
    routeOps(env, new URL(request.url).origin, headers),
    limits,
  );
  server.addEventListener("message", (event) => session.receive(event.data));
  const closed = () => {
    session.close();
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
