import type { SocketLike } from "../../../src/client/index.ts";

/** What one fake socket connection does after its opening message. */
export interface SocketPlan {
  /** Events of this connection's stream to send before the connection ends (default: all, then done). */
  readonly stopAfter?: number;
  /** How a connection stopped early ends: the socket closes (a drop), or a `stream.error` first. */
  readonly end?: "close" | { readonly code: string };
  /** Resend this many events before the cursor (a replay overlapping what the client has). */
  readonly overlap?: number;
  /** Skip this many events after the cursor (a gap). */
  readonly skip?: number;
  /** Answer the opening message with this `error` instead. */
  readonly refuse?: { readonly message: string; readonly code: string; readonly status: number };
}

/**
 * A gateway's `/v1/ws` for the client's unit tests: one stream of events (the OpenAI chunk objects,
 * numbered 1..n), sent to each socket per `plan(connection index, opening message)`. It records the
 * socket URLs and the opening messages.
 */
export class FakeSocketGateway {
  readonly urls: string[] = [];
  readonly openings: Record<string, unknown>[] = [];
  readonly #events: readonly unknown[];
  readonly #plan: (connection: number, opening: Record<string, unknown>) => SocketPlan;
  readonly #timings: unknown;

  constructor(
    events: readonly unknown[],
    plan: (connection: number, opening: Record<string, unknown>) => SocketPlan = () => ({}),
    timings?: unknown,
  ) {
    this.#events = events;
    this.#plan = plan;
    this.#timings = timings;
  }

  /** The `webSocket` option of `streamChat`. */
  readonly factory = (url: string): SocketLike => {
    this.urls.push(url);
    return new FakeSocket((opening, socket) => this.#serve(opening, socket));
  };

  #serve(opening: Record<string, unknown>, socket: FakeSocket): void {
    const connection = this.openings.length;
    this.openings.push(opening);
    const plan = this.#plan(connection, opening);
    if (plan.refuse !== undefined) {
      socket.deliver({ type: "error", error: { ...plan.refuse, type: "invalid_request_error" } });
      return;
    }
    const stream = "s-test";
    let from = 0;
    if (opening.type === "chat.create")
      socket.deliver({ type: "stream.started", stream, resumeToken: "tok-1" });
    else {
      const after = Number(opening.after);
      socket.deliver({ type: "stream.resumed", stream, after });
      from = Math.max(0, after - (plan.overlap ?? 0)) + (plan.skip ?? 0);
    }
    const last =
      plan.stopAfter === undefined ? this.#events.length : Math.min(this.#events.length, plan.stopAfter);
    for (let i = from; i < last; i++)
      socket.deliver({ type: "event", stream, id: i + 1, data: this.#events[i] });
    if (plan.stopAfter === undefined || (last >= this.#events.length && plan.end === undefined)) {
      socket.deliver({
        type: "stream.done",
        stream,
        ...(this.#timings === undefined ? {} : { timings: this.#timings }),
      });
      return;
    }
    const end = plan.end ?? "close";
    if (end !== "close")
      socket.deliver({ type: "stream.error", stream, error: { code: end.code, message: end.code } });
    socket.drop();
  }
}

type Listener = (event: { readonly data: unknown }) => void;

/** One fake socket: opens on the next tick, hands the first message to `serve`, delivers asynchronously. */
class FakeSocket implements SocketLike {
  readonly #listeners = new Map<string, Listener[]>();
  readonly #serve: (opening: Record<string, unknown>, socket: FakeSocket) => void;
  #queue: Promise<void> = Promise.resolve();
  #closed = false;
  #served = false;

  constructor(serve: (opening: Record<string, unknown>, socket: FakeSocket) => void) {
    this.#serve = serve;
    this.#later(() => this.#emit("open", { data: undefined }));
  }

  addEventListener(type: string, listener: Listener): void {
    this.#listeners.set(type, [...(this.#listeners.get(type) ?? []), listener]);
  }

  send(data: string): void {
    if (this.#closed || this.#served) return;
    this.#served = true;
    this.#serve(JSON.parse(data) as Record<string, unknown>, this);
  }

  close(): void {
    this.drop();
  }

  /** Sends one server message (in order, each on its own tick). */
  deliver(message: unknown): void {
    this.#later(() => {
      if (!this.#closed) this.#emit("message", { data: JSON.stringify(message) });
    });
  }

  /** Ends the connection after what was delivered so far. */
  drop(): void {
    this.#later(() => {
      if (this.#closed) return;
      this.#closed = true;
      this.#emit("close", { data: undefined });
    });
  }

  #later(fn: () => void): void {
    this.#queue = this.#queue.then(() => new Promise<void>((r) => setTimeout(r, 0))).then(fn);
  }

  #emit(type: string, event: { readonly data: unknown }): void {
    for (const listener of this.#listeners.get(type) ?? []) listener(event);
  }
}

/** The data payloads of an SSE fixture, parsed, without `[DONE]`. */
export function payloadsOf(sse: string): unknown[] {
  return sse
    .split(/\r?\n\r?\n/)
    .map((block) =>
      block
        .split(/\r?\n/)
        .filter((line) => line.startsWith("data:"))
        .map((line) => line.slice(5).replace(/^ /, ""))
        .join("\n"),
    )
    .filter((data) => data !== "" && data !== "[DONE]")
    .map((data) => JSON.parse(data) as unknown);
}
