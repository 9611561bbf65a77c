import { describe, expect, it } from "vitest";
import { GatewayError } from "../../../../src/errors.ts";
import type { ChatMessage, ChatRequest } from "../../../../src/upstream/openai-chat/types.ts";
import { buildWorkersAiRequest, workersAiTranslator } from "../../../../src/upstream/workers-ai/index.ts";
import { identity } from "./helpers.ts";

const MODEL = "@cf/meta/llama-3.1-8b-instruct";
const USER: ChatMessage = { role: "user", content: "Hello" };

function req(fields: Partial<ChatRequest> = {}): ChatRequest {
  return { model: `workers-ai/${MODEL}`, messages: [USER], extra: {}, ...fields };
}

function rejection(fn: () => unknown): GatewayError {
  try {
    fn();
  } catch (e) {
    if (e instanceof GatewayError) return e;
    throw e;
  }
  throw new Error("expected a GatewayError");
}

describe("buildWorkersAiRequest", () => {
  it("puts the model name in path (for env.AI.run) and the input object in body", () => {
    const call = buildWorkersAiRequest(req({ max_tokens: 64, temperature: 0.2, top_p: 0.8 }), MODEL, true);
    expect(call.path).toBe(MODEL);
    expect(call.body).toEqual({
      messages: [{ role: "user", content: "Hello" }],
      stream: true,
      max_tokens: 64,
      temperature: 0.2,
      top_p: 0.8,
    });
  });

  it("leaves stream out of a non-streaming call and maps seed and penalties", () => {
    const call = buildWorkersAiRequest(
      req({
        max_completion_tokens: 9,
        extra: { seed: 3, presence_penalty: 0.4, frequency_penalty: 0, user: "u" },
      }),
      MODEL,
      false,
    );
    expect(call.body).toEqual({
      messages: [{ role: "user", content: "Hello" }],
      max_tokens: 9,
      seed: 3,
      presence_penalty: 0.4,
    });
  });

  it("flattens text parts, maps developer to system, and keeps tool turns", () => {
    const toolCall = {
      id: "call_1",
      type: "function" as const,
      function: { name: "weather", arguments: '{"city":"Oslo"}' },
    };
    const call = buildWorkersAiRequest(
      req({
        messages: [
          { role: "developer", content: "Be brief." },
          {
            role: "user",
            content: [
              { type: "text", text: "Line 1" },
              { type: "text", text: "Line 2" },
            ],
          },
          { role: "assistant", content: null, tool_calls: [toolCall] },
          { role: "tool", tool_call_id: "call_1", content: "rain" },
        ],
      }),
      MODEL,
      true,
    );
    expect((call.body as { messages: unknown }).messages).toEqual([
      { role: "system", content: "Be brief." },
      { role: "user", content: "Line 1\nLine 2" },
      { role: "assistant", content: "", tool_calls: [toolCall] },
      { role: "tool", content: "rain", tool_call_id: "call_1", name: "weather" },
    ]);
  });

  it("offers tools, and honours tool_choice none by not offering them", () => {
    const tools = [
      { type: "function" as const, function: { name: "weather", parameters: { type: "object" } } },
    ];
    expect(
      (buildWorkersAiRequest(req({ tools, tool_choice: "auto" }), MODEL, true).body as { tools?: unknown })
        .tools,
    ).toEqual(tools);
    expect(
      (buildWorkersAiRequest(req({ tools, tool_choice: "none" }), MODEL, true).body as { tools?: unknown })
        .tools,
    ).toBeUndefined();
  });

  it("passes JSON mode through on non-streaming calls", () => {
    const schema = { type: "object", properties: { a: { type: "string" } } };
    const body = (format: ChatRequest["response_format"]) =>
      (
        buildWorkersAiRequest(req({ response_format: format }), MODEL, false).body as {
          response_format?: unknown;
        }
      ).response_format;
    expect(body({ type: "json_object" })).toEqual({ type: "json_object" });
    expect(body({ type: "json_schema", json_schema: { name: "x", schema } })).toEqual({
      type: "json_schema",
      json_schema: schema,
    });
    expect(body({ type: "text" })).toBeUndefined();
  });

  const image = { type: "image_url" as const, image_url: { url: "data:image/png;base64,AA==" } };
  it.each<[string, Partial<ChatRequest>, boolean, string, string]>([
    [
      "an image part",
      { messages: [{ role: "user", content: [image] }] },
      true,
      "unsupported_parameter",
      "messages[0].content[0]",
    ],
    ["n > 1", { n: 2 }, true, "unsupported_parameter", '"n"'],
    ["stop sequences", { stop: ["END"] }, true, "unsupported_parameter", '"stop"'],
    ["tool_choice required", { tool_choice: "required" }, true, "unsupported_parameter", '"tool_choice"'],
    [
      "a forced function",
      { tool_choice: { type: "function", function: { name: "f" } } },
      true,
      "unsupported_parameter",
      '"tool_choice"',
    ],
    [
      "JSON mode while streaming",
      { response_format: { type: "json_object" } },
      true,
      "unsupported_parameter",
      '"response_format"',
    ],
    ["logprobs", { extra: { logprobs: true } }, true, "unsupported_parameter", '"logprobs"'],
    [
      "parallel_tool_calls false",
      { extra: { parallel_tool_calls: false } },
      true,
      "unsupported_parameter",
      '"parallel_tool_calls"',
    ],
    [
      "an unknown field",
      { extra: { logit_bias: { "1": 2 } } },
      true,
      "unsupported_parameter",
      '"logit_bias"',
    ],
    ["a non-numeric seed", { extra: { seed: "x" } }, true, "invalid_request", '"seed"'],
  ])("rejects %s with 400", (_label, fields, stream, code, mention) => {
    const e = rejection(() => buildWorkersAiRequest(req(fields), MODEL, stream));
    expect(e.status).toBe(400);
    expect(e.code).toBe(code);
    expect(e.message).toContain(mention);
  });

  it.each(["llama-3.1-8b-instruct", "@cf/meta", "https://example.com/model", "@cf/meta/llama 3"])(
    "rejects model name %j with 400 invalid_request",
    (model) => {
      const e = rejection(() => buildWorkersAiRequest(req(), model, true));
      expect([e.status, e.code]).toEqual([400, "invalid_request"]);
    },
  );
});

describe("workersAiTranslator.translateResponse", () => {
  it("turns {response, usage} into a chat.completion", () => {
    const out = workersAiTranslator.translateResponse(
      { response: "Hi there", usage: { prompt_tokens: 4, completion_tokens: 2, total_tokens: 6 } },
      identity(false),
    );
    expect(out).toEqual({
      id: "chatcmpl-test",
      object: "chat.completion",
      created: 1_700_000_000,
      model: `workers-ai/${MODEL}`,
      choices: [{ index: 0, message: { role: "assistant", content: "Hi there" }, finish_reason: "stop" }],
      usage: { prompt_tokens: 4, completion_tokens: 2, total_tokens: 6 },
    });
  });

  it("serializes a JSON-mode object response and reads native tool calls", () => {
    const out = workersAiTranslator.translateResponse(
      { response: { name: "India" }, tool_calls: [{ name: "lookup", arguments: { q: "x" } }] },
      identity(false, "chatcmpl-r"),
    );
    expect(out.choices[0]?.message).toEqual({
      role: "assistant",
      content: '{"name":"India"}',
      tool_calls: [
        { id: "call_r_0", type: "function", function: { name: "lookup", arguments: '{"q":"x"}' } },
      ],
    });
    expect(out.choices[0]?.finish_reason).toBe("tool_calls");
  });

  it("reads an OpenAI-shaped completion from newer models", () => {
    const out = workersAiTranslator.translateResponse(
      {
        choices: [
          {
            index: 0,
            message: { role: "assistant", content: "ok", reasoning_content: "r" },
            finish_reason: "length",
          },
        ],
      },
      identity(false),
    );
    expect(out.choices[0]).toEqual({
      index: 0,
      message: { role: "assistant", content: "ok", reasoning_content: "r" },
      finish_reason: "length",
    });
  });

  it.each([
    ["an error", { error: "AiError: 5007: No such model" }],
    ["a non-object", "plain text"],
  ])("answers %s with a 502 upstream_error", (_label, input) => {
    const e = rejection(() => workersAiTranslator.translateResponse(input, identity(false)));
    expect([e.status, e.code]).toEqual([502, "upstream_error"]);
  });
});
