import { broken, CONNECTION_DONE, type ConnectionEnd } from "./connection.ts";
import { GONE_CODE, SOCKET_ROUTE, SOCKET_SERVER_MESSAGE } from "./protocol.ts";

/**
 * The part of a WebSocket the client uses: the browser's (and Node's) `WebSocket` fits, a test
 * passes a fake. Events are only ever listened to, never dispatched.
 */
export interface SocketLike {
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: "open" | "close" | "error", listener: () => void): void;
  addEventListener(type: "message", listener: (event: { readonly data: unknown }) => void): void;
}

/** Opens a socket to `url`; the default is the global `WebSocket`. */
export type SocketFactory = (url: string) => SocketLike;

/** A socket message's error object (OpenAI's error fields, plus the HTTP status the request would have had). */
export interface SocketError {
  readonly message: string;
  readonly code: string | null;
  readonly type: string | null;
  readonly status: number | null;
}

/** What one socket connection hands its messages to. */
export interface SocketHandlers {
  /** `stream.started`: the stream exists (the answer to `chat.create`). */
  readonly onStarted: (stream: string, resumeToken: string | null) => void;
  /** `stream.resumed`: replay from the cursor starts. */
  readonly onResumed: () => void;
  /** One event; may throw to end the whole stream (an in-band error, a gap). */
  readonly onEvent: (id: string | undefined, data: unknown) => void;
  /** `stream.done`'s timings, when it carried them. */
  readonly onTimings: (timings: unknown) => void;
  /** `error` for the opening message; throws to end the stream, else this connection is over (resumable). */
  readonly onRefused: (error: SocketError) => void;
  /** `stream.error` that means the stream cannot be read again (unknown stream, bad cursor); throws. */
  readonly onGone: (error: SocketError) => void;
  /** Throws when the caller aborted. */
  readonly checkAborted: () => void;
}

const GONE = new Set<string>(Object.values(GONE_CODE));

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function errorOf(value: unknown): SocketError {
  const e = isRecord(value) ? value : {};
  return {
    message: typeof e.message === "string" ? e.message : "the gateway refused the request",
    code: typeof e.code === "string" ? e.code : null,
    type: typeof e.type === "string" ? e.type : null,
    status: typeof e.status === "number" ? e.status : null,
  };
}

/** `ws(s)://<origin of the chat url>/v1/ws`, with the bearer token (browsers cannot set socket headers) in `?token=`. */
export function socketUrl(chatUrl: string, token: string | null): string {
  const page = (globalThis as { readonly location?: { readonly href?: unknown } }).location;
  const url = new URL(
    SOCKET_ROUTE.path,
    new URL(chatUrl, typeof page?.href === "string" ? page.href : undefined),
  );
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  if (token !== null) url.searchParams.set(SOCKET_ROUTE.tokenParam, token);
  return url.href;
}

/** The bearer of an `Authorization` header among `headers`, or null. */
export function bearerOf(headers: HeadersInit | undefined): string | null {
  const value = new Headers(headers).get("authorization");
  const match = value === null ? null : /^Bearer\s+(\S+)\s*$/i.exec(value);
  return match?.[1] ?? null;
}

/**
 * Runs one socket connection for one stream: sends `opening` once the socket is open, hands the
 * stream's messages to `handlers` and settles when the stream is done (`stream.done`) or the
 * connection is over without it (closed, failed, the reader too slow): then it is resumable.
 * Errors thrown by the handlers end the whole stream. `stop` aborting closes the socket.
 */
export function readSocket(
  socket: SocketLike,
  opening: Record<string, unknown>,
  handlers: SocketHandlers,
  stop: AbortSignal,
): Promise<ConnectionEnd> {
  return new Promise<ConnectionEnd>((resolve, reject) => {
    let settled = false;
    const finish = (end: ConnectionEnd | { readonly error: unknown; readonly throw: true }) => {
      if (settled) return;
      settled = true;
      stop.removeEventListener("abort", onStop);
      try {
        socket.close(1000);
      } catch {
        // Already closing.
      }
      if ("throw" in end) reject(end.error);
      else resolve(end);
    };
    const guard = (fn: () => void) => {
      try {
        fn();
      } catch (error) {
        finish({ error, throw: true });
      }
    };
    const onStop = () => finish(broken(new Error("aborted")));
    stop.addEventListener("abort", onStop, { once: true });
    socket.addEventListener("open", () => guard(() => socket.send(JSON.stringify(opening))));
    socket.addEventListener("close", () => finish(broken(new Error("the socket closed"))));
    socket.addEventListener("error", () => finish(broken(new Error("the socket failed"))));
    socket.addEventListener("message", (event) =>
      guard(() => {
        if (settled || typeof event.data !== "string") return;
        handlers.checkAborted();
        let message: unknown;
        try {
          message = JSON.parse(event.data);
        } catch {
          return;
        }
        if (!isRecord(message)) return;
        switch (message.type) {
          case SOCKET_SERVER_MESSAGE.streamStarted:
            handlers.onStarted(
              String(message.stream),
              typeof message.resumeToken === "string" ? message.resumeToken : null,
            );
            return;
          case SOCKET_SERVER_MESSAGE.streamResumed:
            handlers.onResumed();
            return;
          case SOCKET_SERVER_MESSAGE.event:
            handlers.onEvent(typeof message.id === "number" ? String(message.id) : undefined, message.data);
            return;
          case SOCKET_SERVER_MESSAGE.streamDone:
            if (message.timings !== undefined) handlers.onTimings(message.timings);
            finish(CONNECTION_DONE);
            return;
          case SOCKET_SERVER_MESSAGE.streamError: {
            const error = errorOf(message.error);
            if (error.code !== null && GONE.has(error.code)) handlers.onGone(error);
            // Too slow, cut, or any other stop: what was read stays applied, the rest is resumed.
            finish(broken(new Error(error.message)));
            return;
          }
          case SOCKET_SERVER_MESSAGE.error:
            // Only this connection's opening message can be refused: the request itself failed.
            handlers.onRefused(errorOf(message.error));
            finish(broken(new Error("the gateway refused the message")));
            return;
          default:
            return;
        }
      }),
    );
  });
}
