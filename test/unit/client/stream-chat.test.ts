import { describe, expect, it, vi } from "vitest";
import { GatewayStreamError } from "../../../src/client/index.ts";
import { FakeGateway } from "./fake-gateway.ts";
import {
  CHAT_FIXTURES,
  chunk,
  expectedAnswer,
  numberEvents,
  numberedSse,
  readChatFixture,
} from "./fixtures.ts";
import { CHAT_URL, collect, collectFailure, start, textOf, toolCallsOf } from "./harness.ts";

describe("streamChat on recorded streams", () => {
  for (const name of CHAT_FIXTURES) {
    it(`reads ${name} to [DONE] with the text, tool calls and finish reason of choice 0`, async () => {
      const text = readChatFixture(name);
      const expected = expectedAnswer(text);
      const gateway = new FakeGateway({ stream: numberEvents(text) });
      const { deltas, result } = await collect(start(gateway));
      expect(result.text).toBe(expected.text);
      expect(result.refusal).toBe(expected.refusal);
      expect(result.toolCalls).toEqual(expected.toolCalls);
      expect(result.finishReason).toBe(expected.finishReason);
      expect(result.events).toBe(expected.events);
      expect(result.resumes).toBe(0);
      expect(result.streamId).toBe("s-test");
      expect(textOf(deltas)).toBe(expected.text);
      expect(toolCallsOf(deltas)).toEqual(expected.toolCalls);
    });
  }

  it("assembles parallel tool calls with ids and names", async () => {
    const gateway = new FakeGateway({
      stream: numberEvents(readChatFixture("chat-parallel-tool-calls.sse")),
    });
    const { result } = await collect(start(gateway));
    expect(result.finishReason).toBe("tool_calls");
    expect(result.toolCalls.map((call) => [call.index, call.id, call.name])).toEqual([
      [0, "call_JMW1whyEaYG438VE1OIflxA2", "GetWeatherArgs"],
      [1, "call_DNYTawLBoN8fj3KN6qU9N1Ou", "get_stock_price"],
    ]);
    for (const call of result.toolCalls) expect(JSON.parse(call.arguments)).toBeTypeOf("object");
  });

  it("reports a refusal as its own deltas and field, not as text", async () => {
    const gateway = new FakeGateway({ stream: numberEvents(readChatFixture("chat-refusal-delta.sse")) });
    const { deltas, result } = await collect(start(gateway));
    expect(result.refusal).toMatch(/^I'm sorry/);
    expect(result.text).toBe("");
    expect(deltas.every((delta) => delta.type === "refusal")).toBe(true);
  });

  it("reports usage once through onUsage and in the result", async () => {
    const onUsage = vi.fn();
    const gateway = new FakeGateway({ stream: numberEvents(readChatFixture("chat-text-include-usage.sse")) });
    const { result } = await collect(start(gateway, { onUsage }));
    expect(onUsage).toHaveBeenCalledTimes(1);
    expect(onUsage).toHaveBeenCalledWith(
      expect.objectContaining({ prompt_tokens: 14, completion_tokens: 30 }),
    );
    expect(result.usage).toMatchObject({ prompt_tokens: 14, completion_tokens: 30, total_tokens: 44 });
  });

  it("reports a content_filter stop as a complete but filtered answer", async () => {
    const stream = numberedSse([
      chunk({ role: "assistant", content: "" }),
      chunk({ content: "The code is " }),
      chunk({}, "content_filter"),
      "[DONE]",
    ]);
    const { result } = await collect(start(new FakeGateway({ stream })));
    expect(result).toMatchObject({ text: "The code is ", finishReason: "content_filter", filtered: true });
  });

  it("measures TTFT from request start to the first text delta, once", async () => {
    const times = [1_000, 1_042, 2_000, 3_000];
    const now = vi.fn(() => times.shift() ?? 9_999);
    const onFirstToken = vi.fn();
    const gateway = new FakeGateway({ stream: numberEvents(readChatFixture("chat-text-include-usage.sse")) });
    const { result } = await collect(start(gateway, { now, onFirstToken }));
    expect(result.ttftMs).toBe(42);
    expect(onFirstToken).toHaveBeenCalledTimes(1);
    expect(onFirstToken).toHaveBeenCalledWith({ ttftMs: 42 });
  });

  it("counts a tool call as the first token but not reasoning", async () => {
    const times = [0, 5, 9];
    const stream = numberedSse([
      chunk({ reasoning_content: "thinking" }),
      chunk({ tool_calls: [{ index: 0, id: "call_1", function: { name: "f", arguments: "" } }] }),
      chunk({}, "tool_calls"),
      "[DONE]",
    ]);
    const { deltas, result } = await collect(
      start(new FakeGateway({ stream }), { now: () => times.shift() ?? 0 }),
    );
    expect(deltas[0]).toEqual({ type: "reasoning", text: "thinking" });
    expect(result.reasoning).toBe("thinking");
    expect(result.ttftMs).toBe(5);
  });

  it("calls onDone with the result before done resolves", async () => {
    const onDone = vi.fn();
    const gateway = new FakeGateway({ stream: numberEvents(readChatFixture("chat-finish-length.sse")) });
    const stream = start(gateway, { onDone });
    const result = await stream.done;
    expect(onDone).toHaveBeenCalledWith(result);
    expect(result.finishReason).toBe("length");
  });

  it("settles done without anyone iterating", async () => {
    const gateway = new FakeGateway({ stream: numberEvents(readChatFixture("chat-text-include-usage.sse")) });
    const result = await start(gateway).done;
    expect(result.text).toBe(expectedAnswer(readChatFixture("chat-text-include-usage.sse")).text);
  });

  it("keeps done settling after the loop is left early, without cancelling", async () => {
    const gateway = new FakeGateway({ stream: numberEvents(readChatFixture("chat-text-include-usage.sse")) });
    const stream = start(gateway);
    for await (const _ of stream) break;
    await expect(stream.done).resolves.toMatchObject({ finishReason: "stop" });
    expect(gateway.seen("DELETE")).toHaveLength(0);
  });

  it("allows only one iterator", async () => {
    const stream = start(
      new FakeGateway({ stream: numberEvents(readChatFixture("chat-finish-length.sse")) }),
    );
    stream[Symbol.asyncIterator]();
    expect(() => stream[Symbol.asyncIterator]()).toThrow(TypeError);
    await stream.done;
  });

  it("posts JSON with stream: true, the caller's headers and an event-stream Accept", async () => {
    const gateway = new FakeGateway({ stream: numberEvents(readChatFixture("chat-finish-length.sse")) });
    await start(gateway, { headers: { authorization: "Bearer k" }, body: { model: "m", stream: false } })
      .done;
    const [post] = gateway.seen("POST");
    expect(post?.url).toBe(CHAT_URL);
    expect(JSON.parse(post?.body ?? "")).toEqual({ model: "m", stream: true });
    expect(post?.headers.get("content-type")).toBe("application/json");
    expect(post?.headers.get("accept")).toBe("text/event-stream");
    expect(post?.headers.get("authorization")).toBe("Bearer k");
  });

  it("exposes the stream id once the headers arrived", async () => {
    const gateway = new FakeGateway({
      stream: numberEvents(readChatFixture("chat-finish-length.sse")),
      streamId: "abc_DEF-123",
    });
    const stream = start(gateway);
    expect(stream.streamId).toBeNull();
    const result = await stream.done;
    expect(stream.streamId).toBe("abc_DEF-123");
    expect(result.streamId).toBe("abc_DEF-123");
  });
});

describe("streamChat errors from the gateway", () => {
  const inBandError = JSON.stringify({
    error: { message: "The upstream connection dropped", type: "server_error", code: "upstream_interrupted" },
  });

  it("rejects an in-band error as GatewayStreamError without resuming", async () => {
    const stream = numberedSse([chunk({ content: "Hel" }), chunk({ content: "lo" }), inBandError]);
    const gateway = new FakeGateway({ stream });
    const chat = start(gateway);
    const { deltas, error } = await collectFailure(chat);
    expect(textOf(deltas)).toBe("Hello");
    expect(error).toBeInstanceOf(GatewayStreamError);
    expect(error).toMatchObject({ code: "upstream_interrupted", status: null, partialText: "Hello" });
    await expect(chat.done).rejects.toBe(error);
    expect(gateway.seen("GET")).toHaveLength(0);
  });

  for (const code of ["stream_lost", "guardrail_blocked", "stream_cancelled", "stream_limit_exceeded"]) {
    it(`treats ${code} as final`, async () => {
      const stream = numberedSse([
        chunk({ content: "a" }),
        JSON.stringify({ error: { message: "m", code } }),
      ]);
      const gateway = new FakeGateway({ stream });
      await expect(start(gateway).done).rejects.toMatchObject({ name: "GatewayStreamError", code });
      expect(gateway.seen("GET")).toHaveLength(0);
    });
  }

  it("rejects an in-band error met while resuming", async () => {
    const stream = numberedSse([chunk({ content: "a" }), chunk({ content: "b" }), inBandError]);
    const gateway = new FakeGateway({
      stream,
      cut: (body) => (body.connection === 0 ? { at: 0, how: "error" } : undefined),
    });
    await expect(start(gateway).done).rejects.toMatchObject({ code: "upstream_interrupted" });
    expect(gateway.seen("GET")).toHaveLength(1);
  });

  it("rejects an HTTP error on the POST with its status and code", async () => {
    const gateway = new FakeGateway({
      stream: numberedSse([]),
      postError: {
        status: 429,
        body: JSON.stringify({ error: { message: "Slow down", type: "rate_limit", code: "rate_limited" } }),
      },
    });
    const error = await start(gateway).done.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(GatewayStreamError);
    expect(error).toMatchObject({ status: 429, code: "rate_limited", message: "Slow down" });
  });

  it("rejects a data event that is not an OpenAI chunk", async () => {
    const gateway = new FakeGateway({ stream: numberedSse(["not json", "[DONE]"]) });
    await expect(start(gateway).done).rejects.toMatchObject({ code: "invalid_chunk" });
  });
});
