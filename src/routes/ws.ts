import { RESUME_TOKEN_PARAM } from "../auth/resume-token.ts";
import { configFor } from "../config.ts";
import type { Env } from "../env.ts";
import { GatewayError } from "../errors.ts";
import { ERROR_CODE, HEADER } from "../protocol.ts";
import { type SessionLimits, type SocketPort, SocketSession, type StreamOps } from "../socket/session.ts";
import { handleChat } from "./chat.ts";
import { acceptedPair, admitUpgrade, serveSocket } from "./socket-upgrade.ts";
import { handleCancel, handleResume } from "./streams.ts";

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
  const { headers } = await admitUpgrade(request, env);
  const config = configFor(env);
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
  const { client, server } = acceptedPair();
  const session = new SocketSession(
    socketPort(server),
    routeOps(env, new URL(request.url).origin, headers),
    limits,
  );
  return serveSocket(
    { client, server },
    (data) => session.receive(data),
    () => session.close(),
  );
}
