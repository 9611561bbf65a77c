import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** What the mock received for one request. */
export interface ReceivedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage["headers"];
  readonly body: string;
  /** Resolves when the gateway closed this request's connection (e.g. after a client disconnect). */
  readonly closed: Promise<void>;
}

/** Handles one request; `req.body` is already read. */
export type MockHandler = (req: ReceivedRequest, res: ServerResponse) => void | Promise<void>;

/**
 * A loopback upstream that tests script per request. It records every request, including when its
 * connection closes, so tests can prove cancellation reaches the provider.
 */
export class MockUpstream {
  readonly requests: ReceivedRequest[] = [];
  #handler: MockHandler = (_req, res) => {
    res.writeHead(500).end("no handler");
  };
  #server: Server | undefined;
  #baseUrl = "";

  /** Base URL like `http://127.0.0.1:PORT`. */
  get baseUrl(): string {
    return this.#baseUrl;
  }

  /** Sets how the next requests are answered. */
  handle(handler: MockHandler): void {
    this.#handler = handler;
  }

  async start(): Promise<void> {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      const closed = new Promise<void>((resolve) => res.on("close", () => resolve()));
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const received: ReceivedRequest = {
          method: req.method ?? "",
          url: req.url ?? "",
          headers: req.headers,
          body: Buffer.concat(chunks).toString("utf8"),
          closed,
        };
        this.requests.push(received);
        Promise.resolve(this.#handler(received, res)).catch((err: unknown) => {
          res.destroy(err instanceof Error ? err : new Error(String(err)));
        });
      });
    });
    await new Promise<void>((resolve) => this.#server?.listen(0, "127.0.0.1", resolve));
    const { port } = this.#server.address() as AddressInfo;
    this.#baseUrl = `http://127.0.0.1:${port}`;
  }

  async stop(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise<void>((resolve) => this.#server?.close(() => resolve()));
  }
}

/** Starts an SSE response the test then writes to piece by piece. */
export function startSse(res: ServerResponse): void {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  res.flushHeaders();
}

/** Writes `chunks` with `gapMs` between them, then ends the response (unless `end` is false). */
export async function writeChunks(
  res: ServerResponse,
  chunks: readonly (string | Uint8Array)[],
  gapMs = 0,
  end = true,
): Promise<void> {
  for (const c of chunks) {
    res.write(c);
    if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
  }
  if (end) res.end();
}
