import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type WebSocket from "ws";
import { signJwt } from "../../src/auth/jwt.ts";
import { type LocalGateway, startGateway } from "../support/gateway.ts";
import { MockUpstream, startSse } from "../support/mock-upstream.ts";
import { RefusedUpgrade, type SocketMessage, socketUrl, TestSocket } from "../support/ws-client.ts";

const KEY_A = "ws-key-alpha-0123456789";
const KEY_B = "ws-key-bravo-0123456789";
const JWT_SECRET = "ws-e2e-jwt-secret-0123456789abcdef";
const KEYS = JSON.stringify([
  { name: "alpha", key: KEY_A },
  { name: "bravo", key: KEY_B },
]);

const mock = new MockUpstream();
/** Anonymous access on, small socket limits, one allowed foreign origin. */
let open: LocalGateway;
/** Credentials required: gateway keys and browser tokens. */
let locked: LocalGateway;

beforeAll(async () => {
  await mock.start();
  const upstream = { OPENAI_BASE_URL: `${mock.baseUrl}/v1`, OPENAI_API_KEY: "sk-upstream-e2e" };
  [open, locked] = await Promise.all([
    startGateway({
      ...upstream,
      ALLOWED_ORIGINS: "https://app.example",
      WS_MAX_STREAMS: "2",
      WS_MAX_MESSAGE_BYTES: "4096",
      WS_MESSAGE_RATE: "50",
    }),
    startGateway({
      ...upstream,
      ALLOW_ANONYMOUS: "false",
      GATEWAY_KEYS: KEYS,
      GATEWAY_JWT_SECRET: JWT_SECRET,
    }),
  ]);
});

afterAll(async () => {
  await Promise.all([open.dispose(), locked.dispose()]);
  await mock.stop();
});

/** Every request gets `n` tokens `ms` apart, named after the request's last message. */
function generating(n: number, ms: number): void {
  mock.handle(async (req, res) => {
    const body = JSON.parse(req.body) as { messages: { content: string }[] };
    const tag = body.messages.at(-1)?.content ?? "";
    startSse(res);
    for (let i = 0; i < n && !res.destroyed; i++) {
      res.write(`data: {"choices":[{"index":0,"delta":{"content":"${tag}${i} "}}]}\n\n`);
      await new Promise((r) => setTimeout(r, ms));
    }
    if (!res.destroyed) res.end("data: [DONE]\n\n");
  });
}

function expected(tag: string, n: number): string {
  return Array.from({ length: n }, (_, i) => `${tag}${i} `).join("");
}

function create(ref: string, content: string): Record<string, unknown> {
  return {
    type: "chat.create",
    ref,
    body: { model: "openai/gpt", messages: [{ role: "user", content }] },
  };
}

interface EventMessage {
  readonly stream: string;
  readonly id: number;
  readonly data: { choices: { delta: { content?: string } }[] };
}

function eventsOf(socket: TestSocket, stream: string): EventMessage[] {
  return socket.messages
    .filter((m) => m.type === "event" && m.stream === stream)
    .map((m) => m as unknown as EventMessage);
}

function textOf(events: readonly EventMessage[]): string {
  return events.map((e) => e.data.choices[0]?.delta.content ?? "").join("");
}

async function started(socket: TestSocket, ref: string): Promise<string> {
  const m = await socket.next((x) => x.ref === ref && (x.type === "stream.started" || x.type === "error"), 0);
  expect(m.type).toBe("stream.started");
  return String(m.stream);
}

function doneOf(socket: TestSocket, stream: string): Promise<SocketMessage> {
  return socket.next(
    (m) =>
      m.stream === stream &&
      m.type.startsWith("stream.") &&
      m.type !== "stream.started" &&
      m.type !== "stream.resumed",
    0,
  );
}

async function refused(url: string, options: WebSocket.ClientOptions = {}): Promise<RefusedUpgrade> {
  try {
    const socket = await TestSocket.open(url, options);
    socket.close();
  } catch (err) {
    if (err instanceof RefusedUpgrade) return err;
    throw err;
  }
  throw new Error("the upgrade was accepted");
}

describe("GET /v1/ws: streams over one socket", () => {
  it("multiplexes two streams on one socket, each complete and in order", async () => {
    generating(12, 5);
    const socket = await TestSocket.open(socketUrl(open.url));
    socket.send(create("c1", "a"));
    socket.send(create("c2", "b"));
    const [s1, s2] = [await started(socket, "c1"), await started(socket, "c2")];
    expect(s1).not.toBe(s2);
    expect((await doneOf(socket, s1)).type).toBe("stream.done");
    expect((await doneOf(socket, s2)).type).toBe("stream.done");
    for (const [stream, tag] of [
      [s1, "a"],
      [s2, "b"],
    ] as const) {
      const events = eventsOf(socket, stream);
      expect(textOf(events)).toBe(expected(tag, 12));
      expect(events.map((e) => e.id)).toEqual(events.map((_, i) => i + 1));
    }
    socket.close();
  });

  it("resumes a stream on a new socket after the first one dropped mid-stream, without gap or duplicate", async () => {
    generating(40, 10);
    const first = await TestSocket.open(socketUrl(open.url));
    first.send(create("r1", "r"));
    const stream = await started(first, "r1");
    await first.next((m) => m.type === "event" && m.stream === stream && Number(m.id) >= 3, 0);
    first.drop();
    const before = eventsOf(first, stream);
    const cursor = before.at(-1)?.id ?? 0;
    const second = await TestSocket.open(socketUrl(open.url));
    second.send({ type: "stream.resume", ref: "again", stream, after: cursor });
    const resumed = await second.next((m) => m.ref === "again", 0);
    expect(resumed).toMatchObject({ type: "stream.resumed", stream, after: cursor });
    expect((await doneOf(second, stream)).type).toBe("stream.done");
    const after = eventsOf(second, stream);
    expect(after[0]?.id).toBe(cursor + 1);
    const all = [...before, ...after];
    expect(all.map((e) => e.id)).toEqual(all.map((_, i) => i + 1));
    expect(textOf(all)).toBe(expected("r", 40));
    second.close();
  });

  it("carries the same ids and events as the SSE view of the same stream", async () => {
    generating(8, 2);
    const socket = await TestSocket.open(socketUrl(open.url));
    socket.send(create("v1", "v"));
    const stream = await started(socket, "v1");
    const end = await doneOf(socket, stream);
    expect(end.type).toBe("stream.done");
    expect(end.timings).toMatchObject({ outputTokens: expect.any(Number) });
    const sse = await (await fetch(new URL(`/v1/streams/${stream}`, open.url))).text();
    const blocks = [...sse.matchAll(/data: (.*)\nid: (\d+)\n\n/g)]
      .map((m) => ({ id: Number(m[2]), data: m[1] ?? "" }))
      .filter((b) => b.data !== "[DONE]");
    expect(blocks.length).toBe(8);
    expect(eventsOf(socket, stream).map((e) => ({ id: e.id, data: e.data }))).toEqual(
      blocks.map((b) => ({ id: b.id, data: JSON.parse(b.data) })),
    );
    socket.close();
  });

  it("cancels a stream: the upstream is stopped and nothing of the stream follows stream.cancelled", async () => {
    generating(500, 20);
    const socket = await TestSocket.open(socketUrl(open.url));
    socket.send(create("k1", "k"));
    const stream = await started(socket, "k1");
    await socket.next((m) => m.type === "event" && m.stream === stream, 0);
    socket.send({ type: "stream.cancel", ref: "stop", stream });
    const cancelled = await socket.next((m) => m.ref === "stop", 0);
    expect(cancelled).toMatchObject({ type: "stream.cancelled", stream });
    await mock.requests.at(-1)?.closed;
    await socket.roundTrip();
    const index = socket.messages.indexOf(cancelled);
    expect(socket.messages.slice(index + 1).filter((m) => m.stream === stream)).toEqual([]);
    const status = (await (await fetch(new URL(`/v1/streams/${stream}/status`, open.url))).json()) as {
      state: string;
    };
    expect(status.state).toBe("cancelled");
    socket.close();
  });

  it("answers a refused chat.create with an error carrying its ref, never a stream.started", async () => {
    const socket = await TestSocket.open(socketUrl(open.url));
    socket.send({ type: "chat.create", ref: "bad", body: { model: "no-slash", messages: [] } });
    const m = await socket.next((x) => x.ref === "bad", 0);
    expect(m).toMatchObject({ type: "error", error: { status: 400 } });
    await socket.roundTrip();
    expect(socket.messages.some((x) => x.type === "stream.started")).toBe(false);
    socket.close();
  });
});

describe("GET /v1/ws: who may open it", () => {
  it("answers 401 on the upgrade itself for missing or wrong credentials", async () => {
    const missing = await refused(socketUrl(locked.url));
    expect(missing.status).toBe(401);
    expect(missing.body).toContain("missing credentials");
    const wrong = await refused(socketUrl(locked.url), {
      headers: { authorization: "Bearer wrong-key-0123456789" },
    });
    expect(wrong.status).toBe(401);
    expect(wrong.body).not.toContain("wrong-key");
    const badToken = await refused(socketUrl(locked.url, "?token=aaa.bbb.ccc"));
    expect(badToken.status).toBe(401);
  });

  it("opens with a gateway key header or a browser token in ?token=, and streams as that principal", async () => {
    generating(3, 1);
    const byKey = await TestSocket.open(socketUrl(locked.url), {
      headers: { authorization: `Bearer ${KEY_A}` },
    });
    byKey.send(create("k", "x"));
    const stream = await started(byKey, "k");
    expect((await doneOf(byKey, stream)).type).toBe("stream.done");
    expect(mock.requests.at(-1)?.headers.authorization).toBe("Bearer sk-upstream-e2e");
    byKey.close();
    const token = await signJwt({ sub: "user-1", exp: Math.floor(Date.now() / 1000) + 600 }, JWT_SECRET);
    const byToken = await TestSocket.open(socketUrl(locked.url, `?token=${token}`));
    byToken.send(create("t", "y"));
    const other = await started(byToken, "t");
    expect((await doneOf(byToken, other)).type).toBe("stream.done");
    byToken.close();
  });

  it("refuses another principal's stream id with a stream.error, the socket staying open", async () => {
    generating(3, 1);
    const a = await TestSocket.open(socketUrl(locked.url), { headers: { authorization: `Bearer ${KEY_A}` } });
    a.send(create("mine", "m"));
    const stream = await started(a, "mine");
    await doneOf(a, stream);
    a.close();
    const b = await TestSocket.open(socketUrl(locked.url), { headers: { "x-api-key": KEY_B } });
    b.send({ type: "stream.resume", ref: "theirs", stream, after: 0 });
    const m = await b.next((x) => x.ref === "theirs", 0);
    expect(m).toMatchObject({ type: "stream.error", stream, error: { code: "stream_not_found" } });
    expect(eventsOf(b, stream)).toEqual([]);
    expect((await b.roundTrip()).type).toBe("pong");
    b.close();
  });

  it("refuses an origin ALLOWED_ORIGINS does not list with 403, and accepts a listed one or none", async () => {
    const evil = await refused(socketUrl(open.url), { headers: { origin: "https://evil.example" } });
    expect(evil.status).toBe(403);
    const listed = await TestSocket.open(socketUrl(open.url), { headers: { origin: "https://app.example" } });
    expect((await listed.roundTrip()).type).toBe("pong");
    listed.close();
    const server = await TestSocket.open(socketUrl(open.url));
    expect((await server.roundTrip()).type).toBe("pong");
    server.close();
  });

  it("answers a plain GET without an upgrade with 426", async () => {
    const res = await fetch(new URL("/v1/ws", open.url));
    expect(res.status).toBe(426);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("upgrade_required");
  });
});

describe("GET /v1/ws: bad messages get an error naming the problem, and the socket stays open", () => {
  const cases: [string, unknown, string, RegExp][] = [
    ["non-JSON", "{not json", "invalid_message", /not valid JSON/],
    ["a JSON array", "[1,2]", "invalid_message", /JSON object/],
    [
      "an unknown type",
      { type: "chat.delete", ref: "u" },
      "invalid_message",
      /unknown message type "chat.delete"/,
    ],
    ["chat.create without a body", { type: "chat.create", ref: "nb" }, "invalid_message", /needs body/],
    [
      "stream.resume without a stream",
      { type: "stream.resume", ref: "ns" },
      "invalid_message",
      /needs stream/,
    ],
    [
      "stream.resume with a bad cursor",
      { type: "stream.resume", stream: "A".repeat(22), after: -1 },
      "invalid_message",
      /after must be/,
    ],
    [
      "stream.cancel with a malformed id",
      { type: "stream.cancel", stream: "../x" },
      "invalid_message",
      /needs stream/,
    ],
    ["a binary frame", Buffer.from([1, 2, 3]), "binary_message", /binary frames/],
    [
      "a message over WS_MAX_MESSAGE_BYTES",
      JSON.stringify({ type: "ping", pad: "x".repeat(5000) }),
      "message_too_large",
      /4096 bytes/,
    ],
  ];
  for (const [what, message, code, text] of cases) {
    it(`refuses ${what}`, async () => {
      const socket = await TestSocket.open(socketUrl(open.url));
      socket.send(message);
      const m = await socket.next((x) => x.type === "error", 0);
      expect(m.error).toMatchObject({ code, message: expect.stringMatching(text) });
      expect((await socket.roundTrip()).type).toBe("pong");
      socket.close();
    });
  }

  it("never echoes a secret-looking value: neither an odd type nor a bad ref", async () => {
    const socket = await TestSocket.open(socketUrl(open.url));
    const secret = "sk-live-THIS-IS-SECRET-123";
    socket.send({ type: secret });
    socket.send({ type: "ping", ref: `${secret} with spaces` });
    await socket.roundTrip();
    const errors = socket.messages.filter((m) => m.type === "error");
    expect(errors.length).toBe(2);
    expect(JSON.stringify(errors)).not.toContain("SECRET");
    socket.close();
  });

  it("refuses control messages over WS_MESSAGE_RATE, while chat.create still starts a stream", async () => {
    generating(2, 1);
    const socket = await TestSocket.open(socketUrl(open.url));
    for (let i = 0; i < 80; i++) socket.send({ type: "ping", ref: `flood${i}` });
    const over = await socket.next((x) => x.type === "error", 0);
    expect(over.error).toMatchObject({
      code: "message_rate_exceeded",
      message: expect.stringMatching(/50 messages per second/),
    });
    expect(over.ref).toMatch(/^flood/);
    socket.send(create("after", "z"));
    const stream = await started(socket, "after");
    expect((await doneOf(socket, stream)).type).toBe("stream.done");
    socket.close();
  });

  it("refuses a stream beyond WS_MAX_STREAMS on one socket", async () => {
    generating(300, 20);
    const socket = await TestSocket.open(socketUrl(open.url));
    socket.send(create("m1", "a"));
    socket.send(create("m2", "b"));
    socket.send(create("m3", "c"));
    const third = await socket.next((x) => x.ref === "m3", 0);
    expect(third).toMatchObject({ type: "error", error: { code: "too_many_streams" } });
    for (const ref of ["m1", "m2"]) {
      const stream = await started(socket, ref);
      socket.send({ type: "stream.cancel", stream });
      await socket.next((x) => x.type === "stream.cancelled" && x.stream === stream, 0);
    }
    socket.close();
  });

  it("refuses a resume of a stream the socket already follows", async () => {
    generating(200, 20);
    const socket = await TestSocket.open(socketUrl(open.url));
    socket.send(create("d1", "d"));
    const stream = await started(socket, "d1");
    socket.send({ type: "stream.resume", ref: "dup", stream, after: 0 });
    const m = await socket.next((x) => x.ref === "dup", 0);
    expect(m).toMatchObject({ type: "error", stream, error: { code: "stream_already_followed" } });
    socket.send({ type: "stream.cancel", stream });
    await socket.next((x) => x.type === "stream.cancelled", 0);
    socket.close();
  });
});
