import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomSplits, readFixture } from "../support/fixtures.ts";
import { type LocalGateway, startGateway } from "../support/gateway.ts";
import { MockUpstream, type ReceivedRequest, startSse, writeChunks } from "../support/mock-upstream.ts";

const mock = new MockUpstream();
let gateway: LocalGateway;
let client: OpenAI;

beforeAll(async () => {
  await mock.start();
  gateway = await startGateway({
    ANTHROPIC_BASE_URL: `${mock.baseUrl}/anthropic`,
    GEMINI_BASE_URL: `${mock.baseUrl}/gemini`,
    ANTHROPIC_API_KEY: "sk-ant-e2e",
    GEMINI_API_KEY: "AIza-e2e",
    MODEL_ALIASES: JSON.stringify({ smart: "anthropic/claude-sonnet-4-5" }),
    DEMO_FIRST_TOKEN_MS: "0",
    DEMO_TOKEN_INTERVAL_MS: "0",
  });
  client = new OpenAI({ baseURL: new URL("/v1", gateway.url).href, apiKey: "unused", maxRetries: 0 });
});

afterAll(async () => {
  await gateway.dispose();
  await mock.stop();
});

/** Serves a recorded stream, split at random byte boundaries, with the provider's normal final framing. */
function serveFixture(name: string, terminator = ""): void {
  const bytes = new Uint8Array([...readFixture(name), ...new TextEncoder().encode(terminator)]);
  mock.handle(async (_req, res) => {
    startSse(res);
    await writeChunks(res, randomSplits(bytes, 42, 9), 1);
  });
}

/** Everything the OpenAI SDK yields, folded into text, tool calls and the finish reason. */
async function collect(stream: AsyncIterable<OpenAI.Chat.Completions.ChatCompletionChunk>) {
  let text = "";
  let finish: string | null = null;
  let usage: OpenAI.Completions.CompletionUsage | undefined;
  const calls = new Map<number, { id?: string; name?: string; args: string }>();
  for await (const chunk of stream) {
    if (chunk.usage) usage = chunk.usage;
    for (const choice of chunk.choices) {
      text += choice.delta.content ?? "";
      finish = choice.finish_reason ?? finish;
      for (const tc of choice.delta.tool_calls ?? []) {
        const call = calls.get(tc.index) ?? { args: "" };
        if (tc.id) call.id = tc.id;
        if (tc.function?.name) call.name = tc.function.name;
        call.args += tc.function?.arguments ?? "";
        calls.set(tc.index, call);
      }
    }
  }
  return { text, finish, usage, calls: [...calls.values()] };
}

function lastRequest(): ReceivedRequest {
  const r = mock.requests.at(-1);
  if (r === undefined) throw new Error("the mock upstream received nothing");
  return r;
}

describe("the official OpenAI SDK through /v1/chat/completions", () => {
  it("streams an Anthropic upstream's text and tool call", async () => {
    // The recording ends without its last blank line; a live Anthropic stream has it.
    serveFixture("anthropic/messages-tool-use-input-json-delta.sse", "\n\n");
    const stream = await client.chat.completions.create({
      model: "anthropic/claude-sonnet-4-5",
      stream: true,
      stream_options: { include_usage: true },
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Weather in Paris?" },
      ],
      tools: [{ type: "function", function: { name: "get_weather", parameters: { type: "object" } } }],
    });
    const out = await collect(stream);
    expect(out.text).toBe("I'll check the current weather in Paris for you.");
    const recordedId = /"type":"tool_use","id":"([^"]+)"/.exec(
      new TextDecoder().decode(readFixture("anthropic/messages-tool-use-input-json-delta.sse")),
    )?.[1];
    expect(out.calls).toEqual([{ id: recordedId, name: "get_weather", args: '{"location": "Paris"}' }]);
    expect(out.finish).toBe("tool_calls");
    expect(out.usage?.completion_tokens).toBeGreaterThan(0);
    const sent = JSON.parse(lastRequest().body) as Record<string, unknown>;
    expect(lastRequest().url).toBe("/anthropic/v1/messages");
    expect(sent).toMatchObject({ model: "claude-sonnet-4-5", stream: true });
    expect(JSON.stringify(sent.system)).toContain("Be brief.");
    expect(lastRequest().headers["x-api-key"]).toBe("sk-ant-e2e");
  });

  it("streams a Gemini upstream's function call with its arguments", async () => {
    serveFixture("gemini/stream-thinking-function-call-signature.sse");
    const out = await collect(
      await client.chat.completions.create({
        model: "gemini/gemini-2.5-flash",
        stream: true,
        messages: [{ role: "user", content: "What is the weather?" }],
      }),
    );
    const recorded = new TextDecoder().decode(
      readFixture("gemini/stream-thinking-function-call-signature.sse"),
    );
    const call = /"functionCall":\s*\{\s*"name":\s*"([^"]+)",\s*"args":\s*(\{[^}]*\})/.exec(recorded);
    expect(call).not.toBeNull();
    expect(out.calls).toHaveLength(1);
    expect(out.calls[0]?.name).toBe(call?.[1]);
    expect(JSON.parse(out.calls[0]?.args ?? "")).toEqual(JSON.parse(call?.[2] ?? ""));
    expect(out.finish).toBe("tool_calls");
    expect(lastRequest().url).toBe("/gemini/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse");
    expect(lastRequest().headers["x-goog-api-key"]).toBe("AIza-e2e");
  });

  it("streams Gemini CJK text intact", async () => {
    serveFixture("gemini/stream-utf8-chinese.sse");
    const out = await collect(
      await client.chat.completions.create({
        model: "gemini/gemini-2.0-flash",
        stream: true,
        messages: [{ role: "user", content: "poem" }],
      }),
    );
    const recorded = new TextDecoder().decode(readFixture("gemini/stream-utf8-chinese.sse"));
    const expected = [...recorded.matchAll(/"text":\s*"((?:[^"\\]|\\.)*)"/g)]
      .map((m) => JSON.parse(`"${m[1]}"`) as string)
      .join("");
    expect(out.text).toBe(expected);
    expect(out.finish).toBe("stop");
  });

  it("raises the upstream's mid-stream error instead of ending cleanly", async () => {
    serveFixture("gemini/stream-error-mid-stream.sse");
    const stream = await client.chat.completions.create({
      model: "gemini/gemini-2.0-flash",
      stream: true,
      messages: [{ role: "user", content: "x" }],
    });
    await expect(collect(stream)).rejects.toThrow(/cancel/i);
  });

  it("raises an in-band error when an Anthropic stream is cut before message_stop", async () => {
    const full = new TextDecoder().decode(readFixture("anthropic/messages-text-ping-minimal.sse"));
    const cut = full.slice(0, full.indexOf("event: message_delta"));
    mock.handle(async (_req, res) => {
      startSse(res);
      await writeChunks(res, [cut]);
    });
    const stream = await client.chat.completions.create({
      model: "anthropic/claude",
      stream: true,
      messages: [{ role: "user", content: "x" }],
    });
    await expect(collect(stream)).rejects.toThrow(/ended before/);
  });

  it("routes an alias and translates a non-streaming Anthropic answer", async () => {
    mock.handle((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" }).end(
        JSON.stringify({
          id: "msg_1",
          type: "message",
          role: "assistant",
          model: "claude-sonnet-4-5",
          content: [{ type: "text", text: "Hello there." }],
          stop_reason: "end_turn",
          usage: { input_tokens: 5, output_tokens: 3 },
        }),
      );
    });
    const completion = await client.chat.completions.create({
      model: "smart",
      messages: [{ role: "user", content: "hi" }],
    });
    expect(completion.choices[0]?.message.content).toBe("Hello there.");
    expect(completion.choices[0]?.finish_reason).toBe("stop");
    expect(completion.usage?.completion_tokens).toBe(3);
    expect((JSON.parse(lastRequest().body) as { model: string }).model).toBe("claude-sonnet-4-5");
  });

  it("streams the demo provider and hides usage unless asked", async () => {
    const out = await collect(
      await client.chat.completions.create({
        model: "demo/echo",
        stream: true,
        messages: [{ role: "user", content: "a b c" }],
      }),
    );
    expect(out.text).toBe("You said: a b c");
    expect(out.usage).toBeUndefined();
  });

  it("rejects what a provider cannot honour with a 400 naming the field", async () => {
    await expect(
      client.chat.completions.create({
        model: "anthropic/claude",
        messages: [{ role: "user", content: "x" }],
        logit_bias: { "50256": -100 },
      }),
    ).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/logit_bias/) });
  });

  it("answers 404 naming an unknown provider's model", async () => {
    await expect(
      client.chat.completions.create({ model: "nope/model-x", messages: [{ role: "user", content: "x" }] }),
    ).rejects.toMatchObject({
      status: 404,
      message: expect.stringMatching(/model "nope\/model-x" not found/),
    });
  });

  it("lists demo models and aliases", async () => {
    const ids = (await client.models.list()).data.map((m) => m.id);
    expect(ids).toEqual(expect.arrayContaining(["demo/story", "demo/echo", "smart"]));
  });
});
