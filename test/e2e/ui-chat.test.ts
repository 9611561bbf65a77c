import type { ServerResponse } from "node:http";
import { DefaultChatTransport, readUIMessageStream, type UIMessage, type UIMessageChunk } from "ai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_MODELS } from "../../src/upstream/demo/script.ts";
import { type LocalGateway, startGateway } from "../support/gateway.ts";
import { MockUpstream, type ReceivedRequest, startSse } from "../support/mock-upstream.ts";

// useChat's own transport and reader (the `ai` package), against the real worker: what a React page
// gets from `useChat({ transport: new DefaultChatTransport({ api: ".../v1/ui/chat" }) })`.

const mock = new MockUpstream();
let gateway: LocalGateway;
const MODEL = "openai/gpt-4.1-mini";
const STORY = DEMO_MODELS.story?.("") ?? "";

beforeAll(async () => {
  await mock.start();
  gateway = await startGateway({
    OPENAI_BASE_URL: `${mock.baseUrl}/openai/v1`,
    OPENAI_API_KEY: "sk-e2e-openai",
    DEMO_FIRST_TOKEN_MS: "0",
    DEMO_TOKEN_INTERVAL_MS: "0",
  });
});

afterAll(async () => {
  await gateway.dispose();
  await mock.stop();
});

function chunk(delta: Record<string, unknown>, finish: string | null = null): string {
  const body = { id: "chatcmpl-e2e", object: "chat.completion.chunk", created: 1, model: "gpt-4.1-mini" };
  return `data: ${JSON.stringify({ ...body, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
}

const USAGE = `data: ${JSON.stringify({
  id: "chatcmpl-e2e",
  object: "chat.completion.chunk",
  created: 1,
  model: "gpt-4.1-mini",
  choices: [],
  usage: { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 },
})}\n\n`;

/** A fresh chat id, as useChat generates one per chat. */
function chatId(): string {
  return `chat-${crypto.randomUUID()}`;
}

function transport(body: Record<string, unknown> = { model: MODEL }, fetcher: typeof fetch = fetch) {
  return new DefaultChatTransport<UIMessage>({
    api: new URL("/v1/ui/chat", gateway.url).href,
    body,
    fetch: fetcher,
  });
}

function userMessage(text: string): UIMessage {
  return { id: crypto.randomUUID(), role: "user", parts: [{ type: "text", text }] };
}

function send(t: DefaultChatTransport<UIMessage>, id: string, messages: UIMessage[]) {
  return t.sendMessages({
    trigger: "submit-message",
    chatId: id,
    messageId: undefined,
    messages,
    abortSignal: undefined,
  });
}

/** The assistant message as useChat builds it from the chunks, with the errors the reader reported. */
async function messageOf(
  stream: ReadableStream<UIMessageChunk>,
): Promise<{ message?: UIMessage; errors: string[] }> {
  const errors: string[] = [];
  let message: UIMessage | undefined;
  for await (const m of readUIMessageStream({ stream, onError: (e) => errors.push(String(e)) })) message = m;
  return { message, errors };
}

function textOf(message: UIMessage | undefined): string {
  return (message?.parts ?? []).map((p) => (p.type === "text" ? p.text : "")).join("");
}

function lastRequest(): ReceivedRequest {
  const r = mock.requests.at(-1);
  if (r === undefined) throw new Error("the mock upstream received nothing");
  return r;
}

describe("POST /v1/ui/chat with the AI SDK's DefaultChatTransport", () => {
  it("streams reasoning, text, a tool call and a finish with usage, marked as UI message stream v1", async () => {
    mock.handle((_req, res) => {
      startSse(res);
      res.end(
        chunk({ role: "assistant", reasoning_content: "The user wants weather." }) +
          chunk({ content: "Let me " }) +
          chunk({ content: "check." }) +
          chunk({
            tool_calls: [
              { index: 0, id: "call_1", type: "function", function: { name: "get_weather", arguments: "" } },
            ],
          }) +
          chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }) +
          chunk({ tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] }) +
          chunk({}, "tool_calls") +
          USAGE +
          "data: [DONE]\n\n",
      );
    });
    let headers: Headers | undefined;
    const recording: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      headers = res.headers;
      return res;
    };
    const t = transport(
      { model: MODEL, tools: [{ type: "function", function: { name: "get_weather" } }] },
      recording,
    );
    const { message, errors } = await messageOf(await send(t, chatId(), [userMessage("Weather in Paris?")]));
    expect(errors).toEqual([]);
    expect(headers?.get("x-vercel-ai-ui-message-stream")).toBe("v1");
    expect(headers?.get("content-type")).toMatch(/^text\/event-stream/);
    expect(message?.id).toBe("chatcmpl-e2e");
    expect(message?.parts).toEqual([
      { type: "step-start" },
      expect.objectContaining({ type: "reasoning", text: "The user wants weather.", state: "done" }),
      expect.objectContaining({ type: "text", text: "Let me check.", state: "done" }),
      expect.objectContaining({
        type: "tool-get_weather",
        toolCallId: "call_1",
        state: "input-available",
        input: { city: "Paris" },
      }),
    ]);
    expect(message?.metadata).toEqual({
      usage: { inputTokens: 11, outputTokens: 7, totalTokens: 18 },
    });
    // What the provider saw: a streaming Chat Completions request that asks for usage, tools kept.
    const sent = JSON.parse(lastRequest().body) as Record<string, unknown>;
    expect(lastRequest().url).toBe("/openai/v1/chat/completions");
    expect(sent).toMatchObject({
      model: "gpt-4.1-mini",
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: "user", content: "Weather in Paris?" }],
      tools: [{ type: "function", function: { name: "get_weather" } }],
    });
  });

  it("sends a multi-step history (text, an answered tool call, images) as Chat Completions messages", async () => {
    mock.handle((_req, res) => {
      startSse(res);
      res.end(`${chunk({ content: "Sunny." }, "stop")}data: [DONE]\n\n`);
    });
    const history: UIMessage[] = [
      { id: "s", role: "system", parts: [{ type: "text", text: "Be brief." }] },
      {
        id: "u1",
        role: "user",
        parts: [
          { type: "text", text: "Weather here?" },
          { type: "file", mediaType: "image/png", url: "data:image/png;base64,iVBORw0KGgo=" },
        ],
      },
      {
        id: "a1",
        role: "assistant",
        parts: [
          { type: "step-start" },
          { type: "reasoning", text: "Need a tool.", state: "done" },
          { type: "text", text: "Checking.", state: "done" },
          {
            type: "tool-get_weather",
            toolCallId: "call_9",
            state: "output-available",
            input: { city: "Paris" },
            output: { sky: "clear" },
          },
          { type: "step-start" },
          { type: "text", text: "It is clear.", state: "done" },
          { type: "data-note", data: { shown: "only on the page" } },
        ],
      },
      userMessage("And tomorrow?"),
    ];
    const { message } = await messageOf(await send(transport(), chatId(), history));
    expect(textOf(message)).toBe("Sunny.");
    const sent = JSON.parse(lastRequest().body) as { messages: unknown[] };
    expect(sent.messages).toEqual([
      { role: "system", content: "Be brief." },
      {
        role: "user",
        content: [
          { type: "text", text: "Weather here?" },
          { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
        ],
      },
      {
        role: "assistant",
        content: "Checking.",
        tool_calls: [
          {
            id: "call_9",
            type: "function",
            function: { name: "get_weather", arguments: '{"city":"Paris"}' },
          },
        ],
      },
      { role: "tool", tool_call_id: "call_9", content: '{"sky":"clear"}' },
      { role: "assistant", content: "It is clear." },
      { role: "user", content: "And tomorrow?" },
    ]);
  });

  it("raises the upstream's mid-stream failure in useChat's reader instead of ending cleanly", async () => {
    mock.handle((_req, res) => {
      startSse(res);
      res.write(chunk({ role: "assistant", content: "Half an ans" }));
      // The provider's connection dies mid-answer: no finish, no [DONE].
      setTimeout(() => res.destroy(), 20);
    });
    const { message, errors } = await messageOf(await send(transport(), chatId(), [userMessage("hi")]));
    expect(textOf(message)).toBe("Half an ans");
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/interrupted|ended|before/i);
  });

  it("falls back along the body's `models` chain, and says which target answered", async () => {
    mock.handle((_req, res) => {
      res.writeHead(500, { "content-type": "application/json" }).end('{"error":{"message":"down"}}');
    });
    let target: string | null = null;
    const recording: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      target = res.headers.get("x-gateway-target");
      return res;
    };
    const before = mock.requests.length;
    const t = transport({ model: MODEL, models: [MODEL, "demo/story"] }, recording);
    const { message, errors } = await messageOf(await send(t, chatId(), [userMessage("hi")]));
    expect(errors).toEqual([]);
    expect(textOf(message)).toBe(STORY);
    expect(target).toBe("demo/story");
    expect(mock.requests.length).toBeGreaterThan(before);
  });

  it("runs the answer through the guardrail: a card number never reaches the page", async () => {
    const t = transport({ model: "demo/pii" });
    const { message } = await messageOf(await send(t, chatId(), [userMessage("hi")]));
    const text = textOf(message);
    expect(text).toContain("Write to");
    expect(text).not.toContain("4242 4242 4242 4242");
    expect(text).not.toContain("sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789");
  });
});

describe("bad input to /v1/ui/chat", () => {
  async function post(body: unknown): Promise<{ status: number; message: string }> {
    const res = await fetch(new URL("/v1/ui/chat", gateway.url), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const json = (await res.json()) as { error: { message: string } };
    return { status: res.status, message: json.error.message };
  }
  const hi = { id: "u", role: "user", parts: [{ type: "text", text: "hi" }] };

  it("answers 400 naming `messages` when there are none", async () => {
    expect(await post({ id: chatId(), model: MODEL })).toMatchObject({
      status: 400,
      message: expect.stringMatching(/^messages /),
    });
    expect(await post({ id: chatId(), model: MODEL, messages: [] })).toMatchObject({
      status: 400,
      message: expect.stringMatching(/^messages /),
    });
  });

  it("answers 400 naming the bad part", async () => {
    const bad = {
      id: "u",
      role: "user",
      parts: [
        { type: "text", text: "ok" },
        { type: "text", text: 42 },
      ],
    };
    expect(await post({ id: chatId(), model: MODEL, messages: [bad] })).toMatchObject({
      status: 400,
      message: expect.stringContaining("messages[0].parts[1].text"),
    });
    const unknown = { id: "u", role: "user", parts: [{ type: "mystery" }] };
    expect(await post({ id: chatId(), model: MODEL, messages: [unknown] })).toMatchObject({
      status: 400,
      message: expect.stringContaining("messages[0].parts[0].type"),
    });
    const noParts = { id: "u", role: "user", content: "hi" };
    expect(await post({ id: chatId(), model: MODEL, messages: [noParts] })).toMatchObject({
      status: 400,
      message: expect.stringContaining("messages[0].parts"),
    });
  });

  it("answers 400 naming `model` when the transport's body has none, and useChat's transport raises it", async () => {
    expect(await post({ id: chatId(), messages: [hi] })).toMatchObject({
      status: 400,
      message: expect.stringMatching(/^model is required/),
    });
    await expect(send(transport({}), chatId(), [userMessage("hi")])).rejects.toThrow(/model is required/);
    expect(await post({ id: chatId(), model: MODEL, messages: [hi], webSearch: true })).toMatchObject({
      status: 400,
      message: expect.stringContaining('"webSearch"'),
    });
  });
});

/** An upstream answer held open until `release()`: the first `head` tokens, then the rest. */
function heldAnswer(tokens: readonly string[], head: number) {
  let release = () => {};
  const released = new Promise<void>((r) => {
    release = r;
  });
  mock.handle(async (_req, res: ServerResponse) => {
    startSse(res);
    tokens.forEach((t, i) => {
      if (i < head) res.write(chunk({ content: t }));
    });
    await released;
    for (const t of tokens.slice(head)) res.write(chunk({ content: t }));
    res.end(`${chunk({}, "stop")}${USAGE}data: [DONE]\n\n`);
  });
  return { release };
}

/** A fetch whose response body fails like a dropped connection once `marker` has arrived. */
function droppingAfter(marker: string): typeof fetch {
  return async (input, init) => {
    const res = await fetch(input, init);
    const reader = res.body?.getReader();
    if (reader === undefined) return res;
    let seen = "";
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const { done, value } = await reader.read();
        if (done) return controller.close();
        controller.enqueue(value);
        seen += new TextDecoder().decode(value);
        if (seen.includes(marker)) {
          await reader.cancel();
          controller.error(new TypeError("network error"));
        }
      },
    });
    return new Response(body, res);
  };
}

describe("GET /v1/ui/chat/{id}/stream: useChat's reconnect", () => {
  const TOKENS = ["Once ", "upon ", "a ", "time ", "there ", "was ", "a ", "gateway."];

  it("gives a reader that dropped mid-answer the whole answer from the start, then live to its end", async () => {
    const held = heldAnswer(TOKENS, 3);
    const id = chatId();
    const before = mock.requests.length;
    const first = await send(transport({ model: MODEL }, droppingAfter("a ")), id, [userMessage("story")]);
    const dropped = await messageOf(first);
    // What useChat sees: a broken connection mid-answer (its cue to reconnect), not an end.
    expect(dropped.errors).toEqual([expect.stringContaining("network error")]);
    expect(textOf(dropped.message)).toBe("Once upon a ");
    const resumed = await transport().reconnectToStream({ chatId: id });
    if (resumed === null) throw new Error("the reconnect found no active stream");
    held.release();
    const { message, errors } = await messageOf(resumed);
    expect(errors).toEqual([]);
    // From the start: the replay rebuilds the message the first reader had, then finishes it.
    expect(textOf(message)).toBe(TOKENS.join(""));
    expect(message?.metadata).toMatchObject({ usage: { outputTokens: 7 } });
    // One generation: the reconnect read the stored stream, it did not ask the provider again.
    expect(mock.requests.length - before).toBe(1);
  });

  it("answers 204 (no stream to resume) for a chat never started and for one whose answer finished", async () => {
    expect(await transport().reconnectToStream({ chatId: chatId() })).toBeNull();
    mock.handle((_req, res) => {
      startSse(res);
      res.end(`${chunk({ content: "Done." }, "stop")}data: [DONE]\n\n`);
    });
    const id = chatId();
    await messageOf(await send(transport(), id, [userMessage("hi")]));
    const res = await fetch(new URL(`/v1/ui/chat/${id}/stream`, gateway.url));
    expect(res.status).toBe(204);
    expect(await transport().reconnectToStream({ chatId: id })).toBeNull();
  });

  it("reconnects to the chat's newest answer, not an earlier one", async () => {
    mock.handle((_req, res) => {
      startSse(res);
      res.end(`${chunk({ content: "First answer." }, "stop")}data: [DONE]\n\n`);
    });
    const id = chatId();
    await messageOf(await send(transport(), id, [userMessage("one")]));
    const held = heldAnswer(["Second ", "answer."], 1);
    const second = await send(transport({ model: MODEL }, droppingAfter("Second")), id, [userMessage("two")]);
    await messageOf(second).catch(() => undefined);
    const resumed = await transport().reconnectToStream({ chatId: id });
    if (resumed === null) throw new Error("the reconnect found no active stream");
    held.release();
    expect(textOf((await messageOf(resumed)).message)).toBe("Second answer.");
  });
});

describe("a chat belongs to the principal that started it", () => {
  let keyed: LocalGateway;
  const KEY = "gk-ui-chat-e2e-0123456789abcdef";

  beforeAll(async () => {
    keyed = await startGateway({
      GATEWAY_KEYS: JSON.stringify([
        { name: "alice", key: `${KEY}-alice` },
        { name: "bob", key: `${KEY}-bob` },
      ]),
      ALLOW_ANONYMOUS: "false",
      DEMO_FIRST_TOKEN_MS: "0",
      // Slow enough that the answer is still being generated while the others knock.
      DEMO_TOKEN_INTERVAL_MS: "200",
    });
  });

  afterAll(async () => {
    await keyed.dispose();
  });

  function as(who: string) {
    return new DefaultChatTransport<UIMessage>({
      api: new URL("/v1/ui/chat", keyed.url).href,
      headers: { authorization: `Bearer ${KEY}-${who}` },
      body: { model: "demo/story" },
    });
  }

  it("lets only its owner reconnect: another key gets 404, no key 401, and cannot post to it (403)", async () => {
    const id = chatId();
    const first = await send(as("alice"), id, [userMessage("story")]);
    const reader = first.getReader();
    await reader.read();
    await expect(as("bob").reconnectToStream({ chatId: id })).rejects.toMatchObject({ statusCode: 404 });
    const anonymous = await fetch(new URL(`/v1/ui/chat/${id}/stream`, keyed.url));
    expect(anonymous.status).toBe(401);
    await expect(send(as("bob"), id, [userMessage("mine now")])).rejects.toMatchObject({ statusCode: 403 });
    const resumed = await as("alice").reconnectToStream({ chatId: id });
    expect(resumed).not.toBeNull();
    await resumed?.cancel();
    await reader.cancel();
  });
});
