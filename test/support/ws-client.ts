import WebSocket from "ws";

/** One message the gateway sent on its socket. */
export type SocketMessage = Record<string, unknown> & { readonly type: string };

/**
 * A `ws` client that records every message in order and lets a test wait for the next one matching
 * a predicate (events, not sleeps).
 */
export class TestSocket {
  readonly messages: SocketMessage[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly #socket: WebSocket;
  #waiters: { match: (m: SocketMessage) => boolean; from: number; resolve: (m: SocketMessage) => void }[] =
    [];

  private constructor(socket: WebSocket) {
    this.#socket = socket;
    this.closed = new Promise((resolve) =>
      socket.on("close", (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    socket.on("message", (data, isBinary) => {
      if (isBinary) throw new Error("the gateway sent a binary frame");
      const message = JSON.parse(data.toString()) as SocketMessage;
      this.messages.push(message);
      const index = this.messages.length - 1;
      this.#waiters = this.#waiters.filter((w) => {
        if (index < w.from || !w.match(message)) return true;
        w.resolve(message);
        return false;
      });
    });
  }

  /** Opens a socket; rejects with the HTTP status when the gateway refuses the upgrade. */
  static open(url: string | URL, options: WebSocket.ClientOptions = {}): Promise<TestSocket> {
    const socket = new WebSocket(url, options);
    return new Promise((resolve, reject) => {
      socket.once("open", () => resolve(new TestSocket(socket)));
      socket.once("unexpected-response", (_req, res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          reject(new RefusedUpgrade(res.statusCode ?? 0, Buffer.concat(chunks).toString())),
        );
      });
      socket.once("error", reject);
    });
  }

  /** Resolves with the first message (from index `from` on, default: the next one to arrive) that matches. */
  next(match: (m: SocketMessage) => boolean, from = this.messages.length): Promise<SocketMessage> {
    const found = this.messages.slice(from).find(match);
    if (found !== undefined) return Promise.resolve(found);
    return new Promise((resolve) => this.#waiters.push({ match, from, resolve }));
  }

  /** Sends a message (an object is JSON-encoded; a string or Buffer goes as it is). */
  send(message: unknown): void {
    if (typeof message === "string") this.#socket.send(message);
    else if (message instanceof Uint8Array) this.#socket.send(message, { binary: true });
    else this.#socket.send(JSON.stringify(message));
  }

  /** Sends a ping and waits for its pong: everything the gateway sent before it has arrived. */
  async roundTrip(ref = `p${Math.random().toString(36).slice(2)}`): Promise<SocketMessage> {
    this.send({ type: "ping", ref });
    return this.next((m) => m.type === "pong" && m.ref === ref, 0);
  }

  /** Cuts the TCP connection without a closing handshake, as a network drop does. */
  drop(): void {
    this.#socket.terminate();
  }

  close(): void {
    this.#socket.close();
  }
}

/** The gateway answered the upgrade with an HTTP error instead of a socket. */
export class RefusedUpgrade extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`upgrade refused with HTTP ${status}`);
  }
}

/** `ws://` URL of the gateway's socket. */
export function socketUrl(base: URL, query = ""): string {
  const url = new URL(`/v1/ws${query}`, base);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return url.href;
}
