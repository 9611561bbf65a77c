import { DefaultChatTransport, readUIMessageStream, type UIMessage, type UIMessageChunk } from "ai";
import { describe, expect, it } from "vitest";
import { UiMessageStage } from "../../../src/ui-stream/stage.ts";
import { everyBoundary, oneByteChunks, randomSplits, readFixture } from "../../support/fixtures.ts";

// The stage's bytes are judged by the AI SDK's own parser (DefaultChatTransport reading a response),
// not by a copy of it: every chunk it writes must pass `ai`'s schema.

async function through(pieces: readonly Uint8Array[]): Promise<string> {
  const source = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const p of pieces) controller.enqueue(p);
      controller.close();
    },
  });
  return new Response(source.pipeThrough(new UiMessageStage())).text();
}

/** The chunks `useChat`'s transport reads from `body`, schema-checked by the `ai` package. */
async function chunksOf(body: string): Promise<UIMessageChunk[]> {
  const transport = new DefaultChatTransport<UIMessage>({
    api: "http://gateway.test/v1/ui/chat",
    fetch: async () => new Response(body, { headers: { "content-type": "text/event-stream" } }),
  });
  const stream = await transport.sendMessages({
    trigger: "submit-message",
    chatId: "c",
    messageId: undefined,
    messages: [],
    abortSignal: undefined,
  });
  const out: UIMessageChunk[] = [];
  for await (const chunk of stream) out.push(chunk);
  return out;
}

async function messageOf(chunks: readonly UIMessageChunk[]): Promise<UIMessage | undefined> {
  const stream = new ReadableStream<UIMessageChunk>({
    start(controller) {
      for (const c of chunks) controller.enqueue(c);
      controller.close();
    },
  });
  let message: UIMessage | undefined;
  for await (const m of readUIMessageStream({ stream, terminateOnError: true })) message = m;
  return message;
}

const enc = new TextEncoder();

describe("UiMessageStage", () => {
  it("turns OpenAI's parallel tool calls into two tool parts with their parsed inputs", async () => {
    const body = await through([readFixture("openai/chat-parallel-tool-calls.sse")]);
    const chunks = await chunksOf(body);
    expect(chunks.at(-1)).toMatchObject({ type: "finish", finishReason: "tool-calls" });
    const message = await messageOf(chunks);
    const tools = (message?.parts ?? []).filter((p) => p.type.startsWith("tool-"));
    expect(tools).toHaveLength(2);
    for (const t of tools) expect(t).toMatchObject({ state: "input-available", input: expect.any(Object) });
    expect(body.endsWith("data: [DONE]\n\n")).toBe(true);
  });

  it("writes the same bytes however the input is cut (every boundary, one byte at a time, at random)", async () => {
    const small = readFixture("openai/chat-finish-length.sse");
    const smallWhole = await through([small]);
    for (const pieces of everyBoundary(small)) expect(await through(pieces)).toBe(smallWhole);
    const bytes = readFixture("openai/chat-parallel-tool-calls.sse");
    const whole = await through([bytes]);
    expect(await through(oneByteChunks(bytes))).toBe(whole);
    for (let seed = 1; seed <= 20; seed++) expect(await through(randomSplits(bytes, seed, 12))).toBe(whole);
  });

  it("puts the upstream's exact usage into the finish chunk's metadata", async () => {
    const chunks = await chunksOf(await through([readFixture("openai/chat-text-include-usage.sse")]));
    expect(chunks.at(-1)).toMatchObject({
      type: "finish",
      finishReason: "stop",
      messageMetadata: { usage: { inputTokens: expect.any(Number), outputTokens: expect.any(Number) } },
    });
  });

  it("passes keep-alive comments through and drops event ids and retry hints", async () => {
    const body = await through([
      enc.encode("retry: 1000\n\n: keep-alive\n\n"),
      enc.encode(
        'data: {"id":"x","choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":"stop"}]}\nid: 1\n\n',
      ),
      enc.encode("data: [DONE]\nid: 2\n\n"),
    ]);
    expect(body.startsWith(": keep-alive\n\n")).toBe(true);
    expect(body).not.toMatch(/^id:|^retry:/m);
    expect((await chunksOf(body)).map((c) => c.type)).toEqual([
      "start",
      "start-step",
      "text-start",
      "text-delta",
      "text-end",
      "finish-step",
      "finish",
    ]);
  });

  it("ends a stream that closes without [DONE] or an error with an error chunk, never a finish", async () => {
    const body = await through([
      enc.encode(
        'data: {"id":"x","choices":[{"index":0,"delta":{"content":"half"},"finish_reason":null}]}\n\n',
      ),
    ]);
    const chunks = await chunksOf(body);
    expect(chunks.map((c) => c.type)).not.toContain("finish");
    expect(chunks.at(-1)).toEqual({ type: "error", errorText: "the answer ended before it was complete" });
    expect(body).not.toContain("[DONE]");
    await expect(messageOf(chunks)).rejects.toThrow("the answer ended before it was complete");
  });

  it("turns the gateway's in-band error into the protocol's error chunk, and nothing after it", async () => {
    const error = {
      error: {
        message: "the upstream stopped mid-answer",
        type: "server_error",
        code: "upstream_interrupted",
      },
    };
    const body = await through([
      enc.encode(
        'data: {"id":"x","choices":[{"index":0,"delta":{"content":"half"},"finish_reason":null}]}\n\n',
      ),
      enc.encode(`data: ${JSON.stringify(error)}\n\n`),
      enc.encode(
        'data: {"id":"x","choices":[{"index":0,"delta":{"content":"late"},"finish_reason":null}]}\n\n',
      ),
    ]);
    const chunks = await chunksOf(body);
    expect(chunks.at(-1)).toEqual({ type: "error", errorText: "the upstream stopped mid-answer" });
    expect(body).not.toContain("late");
  });

  it("ends a guardrail block as a content-filter finish naming the rule", async () => {
    const blocked = {
      id: "chatcmpl-guardrail",
      object: "chat.completion.chunk",
      choices: [{ index: 0, delta: {}, finish_reason: "content_filter" }],
      guardrail: { rule: "deny-terms" },
    };
    const body = await through([
      enc.encode(
        'data: {"id":"x","choices":[{"index":0,"delta":{"content":"ok "},"finish_reason":null}]}\n\n',
      ),
      enc.encode(`data: ${JSON.stringify(blocked)}\n\ndata: [DONE]\n\n`),
    ]);
    expect((await chunksOf(body)).at(-1)).toEqual({
      type: "finish",
      finishReason: "content-filter",
      messageMetadata: { guardrail: "deny-terms" },
    });
  });

  it("errors its output when its input fails, so the reader sees a broken connection, not an end", async () => {
    let sent = false;
    const source = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent) return controller.error(new TypeError("connection reset"));
        sent = true;
        controller.enqueue(
          enc.encode('data: {"id":"x","choices":[{"index":0,"delta":{"content":"a"}}]}\n\n'),
        );
      },
    });
    await expect(new Response(source.pipeThrough(new UiMessageStage())).text()).rejects.toThrow(
      "connection reset",
    );
  });
});
