import { describe, expect, it } from "vitest";
import { GatewayError } from "../../../src/errors.ts";
import { type SessionLimits, SocketSession, type StreamOps } from "../../../src/socket/session.ts";

const STREAM = "AAAAAAAAAAAAAAAAAAAAAA";
const LIMITS: SessionLimits = {
  maxStreams: 4,
  maxMessageBytes: 4096,
  messagesPerSecond: 100,
  sendBufferBytes: 1000,
};
const encoder = new TextEncoder();

/** A stream body the test writes SSE text into. */
function sseBody(): {
  body: ReadableStream<Uint8Array>;
  write: (text: string) => void;
  end: () => void;
  cancelled: () => boolean;
} {
  let controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  let cancelled = false;
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
    cancel() {
      cancelled = true;
    },
  });
  return {
    body,
    cancelled: () => cancelled,
    write: (text) => controller?.enqueue(encoder.encode(text)),
    end: () => controller?.close(),
  };
}

function chunk(id: number, text: string): string {
  return `data: {"choices":[{"index":0,"delta":{"content":"${text}"}}]}\nid: ${id}\n\n`;
}

/** A socket that records what it was sent and reports whatever buffered amount the test sets. */
class FakeSocket {
  readonly sent: Record<string, unknown>[] = [];
  bufferedAmount = 0;
  send(text: string): void {
    this.sent.push(JSON.parse(text) as Record<string, unknown>);
  }
  buffered(): number {
    return this.bufferedAmount;
  }
}

function ops(overrides: Partial<StreamOps>): StreamOps {
  const unused = () => Promise.reject(new Error("not expected in this test"));
  return { create: unused, resume: unused, cancel: unused, ...overrides };
}

function streamResponse(body: ReadableStream<Uint8Array>): Response {
  return new Response(body, {
    headers: { "content-type": "text/event-stream", "x-stream-id": STREAM, "x-resume-token": "tok.1.x" },
  });
}

async function tick(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise((r) => setTimeout(r, 0));
}

describe("SocketSession", () => {
  it("relays a created stream's events with their ids and data, then stream.done with the timings", async () => {
    const socket = new FakeSocket();
    const src = sseBody();
    let sentBody: Record<string, unknown> | undefined;
    const session = new SocketSession(
      socket,
      ops({
        create: (body) => {
          sentBody = body;
          return Promise.resolve(streamResponse(src.body));
        },
      }),
      LIMITS,
    );
    session.receive(
      JSON.stringify({ type: "chat.create", ref: "c1", body: { model: "demo/story", stream: false } }),
    );
    await tick();
    src.write(`retry: 1000\n\n${chunk(1, "a")}: keepalive\n\n${chunk(2, "b")}`);
    src.write(`data: [DONE]\nid: 3\n\n: timings {"outputTokens":2}\nid: 4\n\n`);
    src.end();
    await session.idle();
    expect(sentBody).toEqual({ model: "demo/story", stream: true });
    expect(socket.sent).toEqual([
      { type: "stream.started", ref: "c1", stream: STREAM, resumeToken: "tok.1.x" },
      { type: "event", stream: STREAM, id: 1, data: { choices: [{ index: 0, delta: { content: "a" } }] } },
      { type: "event", stream: STREAM, id: 2, data: { choices: [{ index: 0, delta: { content: "b" } }] } },
      { type: "stream.done", stream: STREAM, timings: { outputTokens: 2 } },
    ]);
  });

  it("stops a stream whose reader is too slow with a resumable stream.error naming the last event sent", async () => {
    const socket = new FakeSocket();
    const src = sseBody();
    const session = new SocketSession(
      socket,
      ops({ create: () => Promise.resolve(streamResponse(src.body)) }),
      LIMITS,
    );
    session.receive(JSON.stringify({ type: "chat.create", body: {} }));
    await tick();
    src.write(chunk(1, "a") + chunk(2, "b"));
    await tick();
    socket.bufferedAmount = 5000;
    src.write(chunk(3, "c"));
    await session.idle();
    const last = socket.sent.at(-1);
    expect(last).toMatchObject({
      type: "stream.error",
      stream: STREAM,
      after: 2,
      error: { code: "slow_reader" },
    });
    expect(socket.sent.filter((m) => m.type === "event").map((m) => m.id)).toEqual([1, 2]);
    expect(session.following).toBe(0);
  });

  it("ends a stream that closes with an in-band error event in a stream.error carrying that error", async () => {
    const socket = new FakeSocket();
    const src = sseBody();
    const session = new SocketSession(
      socket,
      ops({ create: () => Promise.resolve(streamResponse(src.body)) }),
      LIMITS,
    );
    session.receive(JSON.stringify({ type: "chat.create", body: {} }));
    await tick();
    src.write(
      `${chunk(1, "a")}data: {"error":{"message":"upstream went away","type":"server_error","param":null,"code":"upstream_interrupted"}}\nid: 2\n\n`,
    );
    src.end();
    await session.idle();
    expect(socket.sent.at(-2)).toMatchObject({
      type: "event",
      id: 2,
      data: { error: { code: "upstream_interrupted" } },
    });
    expect(socket.sent.at(-1)).toEqual({
      type: "stream.error",
      stream: STREAM,
      error: { message: "upstream went away", type: "server_error", code: "upstream_interrupted" },
    });
  });

  it("answers a chat.create the route refuses with an error carrying the ref and the route's status", async () => {
    const socket = new FakeSocket();
    const session = new SocketSession(
      socket,
      ops({ create: () => Promise.reject(new GatewayError(429, "rate_limited", "rate limit exceeded")) }),
      LIMITS,
    );
    session.receive(JSON.stringify({ type: "chat.create", ref: "x", body: {} }));
    await session.idle();
    expect(socket.sent).toEqual([
      {
        type: "error",
        ref: "x",
        error: {
          message: "rate limit exceeded",
          type: "rate_limit_error",
          code: "rate_limited",
          status: 429,
        },
      },
    ]);
  });

  it("counts a stream whose create is still in flight against the socket's limit", async () => {
    const socket = new FakeSocket();
    const session = new SocketSession(socket, ops({ create: () => new Promise<Response>(() => {}) }), {
      ...LIMITS,
      maxStreams: 1,
    });
    session.receive(JSON.stringify({ type: "chat.create", ref: "a", body: {} }));
    session.receive(JSON.stringify({ type: "chat.create", ref: "b", body: {} }));
    await tick();
    expect(socket.sent).toEqual([
      { type: "error", ref: "b", error: expect.objectContaining({ code: "too_many_streams" }) },
    ]);
  });

  it("stops reading the stream once the socket closed, and answers nothing more", async () => {
    const socket = new FakeSocket();
    const src = sseBody();
    const session = new SocketSession(
      socket,
      ops({ create: () => Promise.resolve(streamResponse(src.body)) }),
      LIMITS,
    );
    session.receive(JSON.stringify({ type: "chat.create", body: {} }));
    await tick();
    src.write(chunk(1, "a"));
    await tick();
    session.close();
    await session.idle();
    expect(src.cancelled()).toBe(true);
    session.receive(JSON.stringify({ type: "ping" }));
    await tick();
    expect(socket.sent.map((m) => m.type)).toEqual(["stream.started", "event"]);
  });
});
