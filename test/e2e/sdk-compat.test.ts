import { createOpenAI } from "@ai-sdk/openai";
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { ChatOpenAI } from "@langchain/openai";
import { jsonSchema, type LanguageModel, streamText, tool } from "ai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_MODELS } from "../../src/upstream/demo/script.ts";
import { readFixture } from "../support/fixtures.ts";
import { type LocalGateway, startGateway } from "../support/gateway.ts";
import { MockUpstream, startSse } from "../support/mock-upstream.ts";

// Other clients people point at the gateway's `/v1` unchanged: the AI SDK's OpenAI-compatible and
// OpenAI providers (Chat Completions), and LangChain's ChatOpenAI. Each must stream the answer, and
// each must raise when the provider's connection dies mid-answer, never end as if complete.

const mock = new MockUpstream();
let gateway: LocalGateway;
let baseURL = "";
const STORY = DEMO_MODELS.story?.("") ?? "";
const CUT_MODEL = "openai/gpt-4.1-mini";

beforeAll(async () => {
  await mock.start();
  gateway = await startGateway({
    OPENAI_BASE_URL: `${mock.baseUrl}/openai/v1`,
    OPENAI_API_KEY: "sk-e2e-openai",
    ANTHROPIC_BASE_URL: `${mock.baseUrl}/anthropic`,
    ANTHROPIC_API_KEY: "sk-ant-e2e",
    DEMO_FIRST_TOKEN_MS: "0",
    DEMO_TOKEN_INTERVAL_MS: "0",
  });
  baseURL = new URL("/v1", gateway.url).href;
});

afterAll(async () => {
  await gateway.dispose();
  await mock.stop();
});

/** The provider's connection dies after the first words: no finish reason, no [DONE]. */
function cutMidAnswer(): void {
  mock.handle((_req, res) => {
    startSse(res);
    const chunk = { id: "c", object: "chat.completion.chunk", created: 1, model: "m" };
    res.write(
      `data: ${JSON.stringify({ ...chunk, choices: [{ index: 0, delta: { content: "Half an" }, finish_reason: null }] })}\n\n`,
    );
    setTimeout(() => res.destroy(), 20);
  });
}

function serveAnthropicToolUse(): void {
  // The recording ends without its last blank line; a live Anthropic stream has it.
  const bytes = new Uint8Array([...readFixture("anthropic/messages-tool-use-input-json-delta.sse"), 10, 10]);
  mock.handle((_req, res) => {
    startSse(res);
    res.end(bytes);
  });
}

/** Everything an AI SDK `streamText` run yields: text, tool calls, errors and how it finished. */
async function run(model: LanguageModel) {
  // The tool is declared so the SDK accepts the model's call to it; it is never executed here.
  const tools = { get_weather: tool({ inputSchema: jsonSchema<{ location: string }>({ type: "object" }) }) };
  const result = streamText({ model, prompt: "hi", tools, maxRetries: 0, onError: () => {} });
  let text = "";
  const errors: string[] = [];
  const calls: { name: string; input: unknown }[] = [];
  let finishReason: string | undefined;
  for await (const part of result.fullStream) {
    if (part.type === "text-delta") text += part.text;
    else if (part.type === "error")
      errors.push(String(part.error instanceof Error ? part.error.message : part.error));
    else if (part.type === "tool-call") calls.push({ name: part.toolName, input: part.input });
    else if (part.type === "finish") finishReason = part.finishReason;
  }
  return { text, errors, calls, finishReason };
}

const sdks: { name: string; model: (id: string) => LanguageModel }[] = [
  {
    name: "@ai-sdk/openai-compatible",
    model: (id) =>
      createOpenAICompatible({
        name: "gateway",
        baseURL,
        apiKey: "placeholder",
        includeUsage: true,
      }).chatModel(id),
  },
  {
    name: "@ai-sdk/openai (baseURL, Chat Completions)",
    model: (id) => createOpenAI({ baseURL, apiKey: "placeholder" }).chat(id),
  },
];

describe.each(sdks)("$name through /v1/chat/completions", ({ model }) => {
  it("streams the answer to its end", async () => {
    const out = await run(model("demo/story"));
    expect(out.errors).toEqual([]);
    expect(out.text).toBe(STORY);
    expect(out.finishReason).toBe("stop");
  });

  it("streams a translated Anthropic answer's text and tool call", async () => {
    serveAnthropicToolUse();
    const out = await run(model("anthropic/claude-sonnet-4-5"));
    expect(out.text).toBe("I'll check the current weather in Paris for you.");
    expect(out.calls).toEqual([{ name: "get_weather", input: { location: "Paris" } }]);
    expect(out.errors).toEqual([]);
    expect(out.finishReason).toBe("tool-calls");
  });

  it("raises a mid-stream drop instead of ending cleanly", async () => {
    cutMidAnswer();
    const out = await run(model(CUT_MODEL));
    expect(out.text).toBe("Half an");
    expect(out.errors).toHaveLength(1);
    expect(out.errors[0]).toMatch(/interrupted|ended|before/i);
    expect(out.finishReason).not.toBe("stop");
  });
});

describe("LangChain's ChatOpenAI through /v1/chat/completions", () => {
  function chat(model: string): ChatOpenAI {
    return new ChatOpenAI({ model, apiKey: "placeholder", maxRetries: 0, configuration: { baseURL } });
  }

  async function collect(model: string): Promise<string> {
    let text = "";
    for await (const chunk of await chat(model).stream("hi"))
      text += typeof chunk.content === "string" ? chunk.content : "";
    return text;
  }

  it("streams the answer to its end", async () => {
    expect(await collect("demo/story")).toBe(STORY);
  });

  it("raises a mid-stream drop instead of ending cleanly", async () => {
    cutMidAnswer();
    let text = "";
    const reading = (async () => {
      for await (const chunk of await chat(CUT_MODEL).stream("hi"))
        text += typeof chunk.content === "string" ? chunk.content : "";
    })();
    await expect(reading).rejects.toThrow(/interrupted|ended|before/i);
    expect(text).toBe("Half an");
  });
});
