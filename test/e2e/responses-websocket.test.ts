import type { IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import OpenAI from "openai";
import { ResponsesWS } from "openai/resources/responses/ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type WebSocket as ServerSocket, WebSocketServer } from "ws";
import { type LocalGateway, startGateway } from "../support/gateway.ts";
import { type SocketMessage, TestSocket } from "../support/ws-client.ts";

/** What the mock upstream saw on one connection. */
interface UpstreamConnection {
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly received: Record<string, unknown>[];
  readonly socket: ServerSocket;
}

/** A loopback upstream speaking the Responses WebSocket protocol; `answer` scripts each response.create. */
class MockResponsesUpstream {
  readonly connections: UpstreamConnection[] = [];
  answer: (event: Record<string, unknown>, socket: ServerSocket, index: number) => void = () => {};
  #server: WebSocketServer | undefined;
  #responses = 0;

  async start(): Promise<string> {
    const server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    this.#server = server;
    server.on("connection", (socket, req) => {
      const connection: UpstreamConnection = {
        url: req.url ?? "",
        headers: req.headers,
        received: [],
        socket,
      };
      this.connections.push(connection);
      socket.on("message", (data) => {
        const event = JSON.parse(data.toString()) as Record<string, unknown>;
        connection.received.push(event);
        if (event.type === "response.create") this.answer(event, socket, this.#responses++);
      });
    });
    await new Promise<void>((r) => server.once("listening", () => r()));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const c of this.#server?.clients ?? []) c.terminate();
    await new Promise<void>((r) => this.#server?.close(() => r()));
  }
}

/** The events of one response whose text comes in `deltas`. */
function responseEvents(id: string, deltas: readonly string[], end = true): unknown[] {
  const text = deltas.join("");
  return [
    { type: "response.created", response: { id, object: "response", status: "in_progress", output: [] } },
    ...deltas.map((delta, i) => ({
      type: "response.output_text.delta",
      item_id: "msg_1",
      output_index: 0,
      content_index: 0,
      delta,
      sequence_number: i + 1,
    })),
    ...(end
      ? [
          { type: "response.output_text.done", item_id: "msg_1", output_index: 0, content_index: 0, text },
          {
            type: "response.completed",
            response: {
              id,
              object: "response",
              status: "completed",
              output: [{ type: "message", id: "msg_1", content: [{ type: "output_text", text }] }],
            },
          },
        ]
      : []),
  ];
}

function send(socket: ServerSocket, events: readonly unknown[]): void {
  for (const e of events) socket.send(JSON.stringify(e));
}

const upstream = new MockResponsesUpstream();
let gateway: LocalGateway;

beforeAll(async () => {
  const base = await upstream.start();
  gateway = await startGateway({
    OPENAI_BASE_URL: `${base}/v1`,
    OPENAI_API_KEY: "sk-upstream-ws-e2e",
    GUARDRAIL_RULES: JSON.stringify({
      denyTerms: { terms: ["nightjar"], action: "block" },
      custom: [
        { name: "ticket_id", pattern: "TCK-[0-9]{6}", maxLength: 10, action: "redact", mask: "<ticket>" },
      ],
    }),
  });
});

afterAll(async () => {
  await gateway.dispose();
  await upstream.stop();
});

function responsesUrl(): string {
  const url = new URL("/openai/v1/responses", gateway.url);
  url.protocol = "ws:";
  return url.href;
}

function textOf(messages: readonly SocketMessage[]): string {
  return messages
    .filter((m) => m.type === "response.output_text.delta")
    .map((m) => String(m.delta))
    .join("");
}

function terminal(socket: TestSocket, from = 0): Promise<SocketMessage> {
  return socket.next((m) => ["response.completed", "response.incomplete", "error"].includes(m.type), from);
}

describe("OpenAI Responses WebSocket mode through the gateway", () => {
  it("relays response.create and the response's events, with the provider key upstream and never the client's", async () => {
    upstream.answer = (_e, socket) => send(socket, responseEvents("resp_1", ["Hel", "lo ", "there"]));
    const before = upstream.connections.length;
    const client = await TestSocket.open(responsesUrl(), {
      headers: { authorization: "Bearer client-secret-123" },
    });
    client.send({ type: "response.create", model: "gpt-4.1", input: "hi" });
    expect((await terminal(client)).type).toBe("response.completed");
    expect(textOf(client.messages)).toBe("Hello there");
    expect(client.messages.map((m) => m.type)).toEqual([
      "response.created",
      "response.output_text.delta",
      "response.output_text.delta",
      "response.output_text.delta",
      "response.output_text.done",
      "response.completed",
    ]);
    const connection = upstream.connections[before];
    expect(connection?.url).toBe("/v1/responses");
    expect(connection?.headers.authorization).toBe("Bearer sk-upstream-ws-e2e");
    expect(JSON.stringify(connection?.headers)).not.toContain("client-secret");
    expect(connection?.received).toEqual([{ type: "response.create", model: "gpt-4.1", input: "hi" }]);
    client.close();
  });

  it("keeps one upstream socket per client socket, so previous_response_id continues where the state is", async () => {
    upstream.answer = (_e, socket, i) => send(socket, responseEvents(`resp_t${i}`, ["turn"]));
    const before = upstream.connections.length;
    const client = await TestSocket.open(responsesUrl());
    client.send({ type: "response.create", model: "gpt-4.1", input: "one" });
    const first = await terminal(client);
    client.send({
      type: "response.create",
      model: "gpt-4.1",
      input: "two",
      previous_response_id: (first.response as { id: string }).id,
    });
    await terminal(client, client.messages.indexOf(first) + 1);
    expect(upstream.connections.length).toBe(before + 1);
    expect(upstream.connections[before]?.received.map((e) => e.input)).toEqual(["one", "two"]);
    client.close();
  });

  it("redacts a match split across text deltas before any of it reaches the client", async () => {
    upstream.answer = (_e, socket) =>
      send(socket, responseEvents("resp_r", ["Your ticket is TC", "K-12", "3456, ok"]));
    const client = await TestSocket.open(responsesUrl());
    client.send({ type: "response.create", model: "gpt-4.1", input: "ticket?" });
    const end = await terminal(client);
    expect(textOf(client.messages)).toBe("Your ticket is <ticket>, ok");
    expect(JSON.stringify(client.messages)).not.toMatch(/TCK-|12.?3456/);
    expect(JSON.stringify(end)).toContain("<ticket>");
    client.close();
  });

  it("ends a blocked response as response.incomplete (content_filter), nothing past the block reaching the client", async () => {
    upstream.answer = (_e, socket) =>
      send(
        socket,
        responseEvents("resp_b", ["Safe text. ", "The code is night", "jar and more", " secrets after"]),
      );
    const client = await TestSocket.open(responsesUrl());
    client.send({ type: "response.create", model: "gpt-4.1", input: "tell me" });
    const end = await terminal(client);
    expect(end).toMatchObject({
      type: "response.incomplete",
      response: { incomplete_details: { reason: "content_filter" } },
    });
    const all = JSON.stringify(client.messages);
    expect(all).not.toContain("nightjar");
    expect(all).not.toContain("secrets after");
    expect(textOf(client.messages).startsWith("Safe text.")).toBe(true);
    client.close();
  });

  it("refuses a prompt the guardrail blocks with an error event, and the upstream never sees it", async () => {
    const client = await TestSocket.open(responsesUrl());
    const before = upstream.connections.length;
    client.send({ type: "response.create", model: "gpt-4.1", input: "about nightjar" });
    const error = await client.next((m) => m.type === "error", 0);
    expect(error).toMatchObject({ status: 400, error: { code: "guardrail_blocked" } });
    expect(upstream.connections.length).toBe(before);
    client.close();
  });

  it("sends an upstream_interrupted error event and closes with 1011 when the upstream socket dies mid-response", async () => {
    upstream.answer = (_e, socket) => {
      send(socket, responseEvents("resp_cut", ["partial ", "answer"], false));
      setTimeout(() => socket.terminate(), 50);
    };
    const client = await TestSocket.open(responsesUrl());
    client.send({ type: "response.create", model: "gpt-4.1", input: "go" });
    const error = await client.next((m) => m.type === "error", 0);
    expect(error).toMatchObject({ type: "error", status: 502, error: { code: "upstream_interrupted" } });
    expect(textOf(client.messages)).toBe("partial answer");
    expect((await client.closed).code).toBe(1011);
  });

  it("answers a bad first message with an error event, keeping the socket open", async () => {
    const client = await TestSocket.open(responsesUrl());
    client.send("{nope");
    client.send({ type: "response.steer", input: "x" });
    await client.next((m) => m.type === "error", 1);
    const errors = client.messages
      .filter((m) => m.type === "error")
      .map((m) => (m.error as { code: string }).code);
    expect(errors).toEqual(["invalid_message", "invalid_message"]);
    client.close();
  });

  it("works unchanged with the official openai SDK's ResponsesWS pointed at the gateway by base URL", async () => {
    upstream.answer = (_e, socket) => send(socket, responseEvents("resp_sdk", ["from ", "the SDK"]));
    const before = upstream.connections.length;
    const client = new OpenAI({
      baseURL: new URL("/openai/v1", gateway.url).href,
      apiKey: "placeholder-not-a-key",
    });
    const rws = new ResponsesWS(client);
    const text: string[] = [];
    const done = new Promise<string>((resolve, reject) => {
      rws.on("response.output_text.delta", (e) => text.push(e.delta));
      rws.on("response.completed", (e) => resolve(e.response.id));
      rws.on("error", reject);
    });
    rws.send({ type: "response.create", model: "gpt-4.1", input: "hi" });
    expect(await done).toBe("resp_sdk");
    expect(text.join("")).toBe("from the SDK");
    expect(upstream.connections[before]?.headers.authorization).toBe("Bearer sk-upstream-ws-e2e");
    rws.close({ code: 1000, reason: "done" });
  });
});
