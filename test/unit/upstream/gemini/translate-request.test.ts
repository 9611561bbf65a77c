import { describe, expect, it } from "vitest";
import { GatewayError } from "../../../../src/errors.ts";
import {
  buildGeminiRequest,
  geminiTranslator,
  SKIP_THOUGHT_SIGNATURE,
} from "../../../../src/upstream/gemini/index.ts";
import type { ChatMessage, ChatRequest } from "../../../../src/upstream/openai-chat/types.ts";

const USER: ChatMessage = { role: "user", content: "Hello" };

function req(fields: Partial<ChatRequest> = {}): ChatRequest {
  return { model: "gemini/gemini-2.5-flash", messages: [USER], extra: {}, ...fields };
}

function body(fields: Partial<ChatRequest> = {}, stream = true): Record<string, unknown> {
  const call = buildGeminiRequest(req(fields), "gemini-2.5-flash", stream);
  return call.body as Record<string, unknown>;
}

/** The thrown GatewayError, or a failure if nothing was thrown. */
function rejection(fn: () => unknown): GatewayError {
  try {
    fn();
  } catch (e) {
    if (e instanceof GatewayError) return e;
    throw e;
  }
  throw new Error("expected a GatewayError");
}

describe("buildGeminiRequest: path", () => {
  it("streams through streamGenerateContent with alt=sse, and answers whole otherwise", () => {
    expect(buildGeminiRequest(req(), "gemini-2.5-flash", true).path).toBe(
      "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
    );
    expect(buildGeminiRequest(req(), "gemini-2.5-flash", false).path).toBe(
      "/v1beta/models/gemini-2.5-flash:generateContent",
    );
  });

  it("percent-encodes characters of the model id that are not path-safe", () => {
    expect(buildGeminiRequest(req(), "my model?x#y", false).path).toBe(
      "/v1beta/models/my%20model%3Fx%23y:generateContent",
    );
  });

  it.each(["", "../files", "gemini/../../x", "tunedModels/x", "gemini-2.5-flash:countTokens", "a..b"])(
    "refuses model id %j with 400 invalid_request",
    (model) => {
      const e = rejection(() => buildGeminiRequest(req(), model, true));
      expect(e.status).toBe(400);
      expect(e.code).toBe("invalid_request");
    },
  );

  it("sends no headers: the API key is the transport's business", () => {
    expect(buildGeminiRequest(req(), "m", true).headers).toBeUndefined();
  });
});

describe("buildGeminiRequest: messages", () => {
  it("hoists system and developer messages into systemInstruction and maps roles", () => {
    const b = body({
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Hi" },
        { role: "assistant", content: "Hello!" },
        { role: "developer", content: [{ type: "text", text: "Use French." }] },
        { role: "user", content: [{ type: "text", text: "Again" }] },
      ],
    });
    expect(b.systemInstruction).toEqual({ parts: [{ text: "Be brief." }, { text: "Use French." }] });
    expect(b.contents).toEqual([
      { role: "user", parts: [{ text: "Hi" }] },
      { role: "model", parts: [{ text: "Hello!" }] },
      { role: "user", parts: [{ text: "Again" }] },
    ]);
  });

  it("merges consecutive turns of one role, since Gemini expects alternating roles", () => {
    const b = body({ messages: [USER, { role: "user", content: "World" }] });
    expect(b.contents).toEqual([{ role: "user", parts: [{ text: "Hello" }, { text: "World" }] }]);
  });

  it("turns base64 data URLs into inlineData", () => {
    const b = body({
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "What is this?" },
            { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=", detail: "low" } },
          ],
        },
      ],
    });
    expect(b.contents).toEqual([
      {
        role: "user",
        parts: [{ text: "What is this?" }, { inlineData: { mimeType: "image/png", data: "iVBORw0KGgo=" } }],
      },
    ]);
  });

  it("replays assistant tool calls as functionCall parts and tool results as functionResponse parts", () => {
    const b = body({
      messages: [
        USER,
        {
          role: "assistant",
          content: null,
          tool_calls: [
            { id: "call_1", type: "function", function: { name: "weather", arguments: '{"city":"Paris"}' } },
            { id: "call_2", type: "function", function: { name: "time", arguments: "" } },
          ],
        },
        { role: "tool", tool_call_id: "call_2", content: "12:00" },
        { role: "tool", tool_call_id: "call_1", content: '{"temp":21}' },
      ],
    });
    expect(b.contents).toEqual([
      { role: "user", parts: [{ text: "Hello" }] },
      {
        role: "model",
        parts: [
          {
            functionCall: { name: "weather", args: { city: "Paris" } },
            thoughtSignature: SKIP_THOUGHT_SIGNATURE,
          },
          { functionCall: { name: "time", args: {} } },
        ],
      },
      {
        role: "user",
        parts: [
          { functionResponse: { name: "time", response: { content: "12:00" } } },
          { functionResponse: { name: "weather", response: { temp: 21 } } },
        ],
      },
    ]);
  });

  it("drops empty text, which Gemini rejects", () => {
    const b = body({ messages: [{ role: "system", content: "" }, USER, { role: "assistant", content: "" }] });
    expect(b.systemInstruction).toBeUndefined();
    expect(b.contents).toEqual([{ role: "user", parts: [{ text: "Hello" }] }]);
  });
});

describe("buildGeminiRequest: generation settings", () => {
  it("maps sampling, limits, stop sequences and n into generationConfig", () => {
    expect(
      body({
        max_tokens: 100,
        temperature: 0.3,
        top_p: 0.9,
        stop: "END",
        n: 2,
        extra: { seed: 7, presence_penalty: 0.5, frequency_penalty: -0.5 },
      }).generationConfig,
    ).toEqual({
      maxOutputTokens: 100,
      temperature: 0.3,
      topP: 0.9,
      stopSequences: ["END"],
      candidateCount: 2,
      seed: 7,
      presencePenalty: 0.5,
      frequencyPenalty: -0.5,
    });
  });

  it("prefers max_completion_tokens over the deprecated max_tokens", () => {
    expect(body({ max_tokens: 10, max_completion_tokens: 20 }).generationConfig).toEqual({
      maxOutputTokens: 20,
    });
  });

  it("sends no generationConfig when nothing is set", () => {
    expect(body()).toEqual({ contents: [{ role: "user", parts: [{ text: "Hello" }] }] });
  });

  it("maps json_object and json_schema response formats", () => {
    expect(body({ response_format: { type: "json_object" } }).generationConfig).toEqual({
      responseMimeType: "application/json",
    });
    const schema = { type: "object", properties: { a: { type: "string" } }, additionalProperties: false };
    expect(
      body({ response_format: { type: "json_schema", json_schema: { name: "x", schema } } }).generationConfig,
    ).toEqual({
      responseMimeType: "application/json",
      responseJsonSchema: schema,
    });
    expect(body({ response_format: { type: "text" } }).generationConfig).toBeUndefined();
  });

  it("accepts harmless metadata and OpenAI's no-op defaults without changing the body", () => {
    const extra = {
      user: "u1",
      safety_identifier: "s",
      store: false,
      metadata: { a: "b" },
      prompt_cache_key: "k",
      stream_options: { include_usage: true },
      logprobs: false,
      parallel_tool_calls: true,
      logit_bias: {},
      presence_penalty: 0,
      frequency_penalty: 0,
      top_logprobs: null,
      reasoning_effort: null,
    };
    expect(body({ extra })).toEqual(body());
  });
});

describe("buildGeminiRequest: tools", () => {
  const tools = [
    {
      type: "function" as const,
      function: { name: "weather", description: "Get weather", parameters: { type: "object" } },
    },
    { type: "function" as const, function: { name: "time" } },
  ];

  it("declares functions with their JSON schema", () => {
    expect(body({ tools }).tools).toEqual([
      {
        functionDeclarations: [
          { name: "weather", description: "Get weather", parametersJsonSchema: { type: "object" } },
          { name: "time" },
        ],
      },
    ]);
  });

  it.each([
    ["auto", { mode: "AUTO" }],
    ["none", { mode: "NONE" }],
    ["required", { mode: "ANY" }],
    [
      { type: "function", function: { name: "time" } },
      { mode: "ANY", allowedFunctionNames: ["time"] },
    ],
  ] as const)("maps tool_choice %j to %j", (choice, config) => {
    expect(body({ tools, tool_choice: choice }).toolConfig).toEqual({ functionCallingConfig: config });
  });
});

describe("buildGeminiRequest: 400s", () => {
  const toolCall = { id: "c1", type: "function" as const, function: { name: "f", arguments: "[1,2]" } };
  it.each<[string, Partial<ChatRequest>, number, string, string]>([
    ["logprobs", { extra: { logprobs: true } }, 400, "unsupported_parameter", '"logprobs"'],
    ["top_logprobs", { extra: { top_logprobs: 3 } }, 400, "unsupported_parameter", '"top_logprobs"'],
    [
      "logit_bias",
      { extra: { logit_bias: { "50256": -100 } } },
      400,
      "unsupported_parameter",
      '"logit_bias"',
    ],
    [
      "reasoning_effort",
      { extra: { reasoning_effort: "high" } },
      400,
      "unsupported_parameter",
      '"reasoning_effort"',
    ],
    [
      "parallel_tool_calls false",
      { extra: { parallel_tool_calls: false } },
      400,
      "unsupported_parameter",
      '"parallel_tool_calls"',
    ],
    ["an unknown field", { extra: { modalities: ["audio"] } }, 400, "unsupported_parameter", '"modalities"'],
    ["legacy functions", { extra: { functions: [] } }, 400, "unsupported_parameter", '"functions"'],
    ["a non-numeric seed", { extra: { seed: "7" } }, 400, "invalid_request", '"seed"'],
    [
      "an https image",
      {
        messages: [
          {
            role: "user",
            content: [{ type: "image_url", image_url: { url: "https://example.com/cat.png" } }],
          },
        ],
      },
      400,
      "unsupported_parameter",
      "Files API",
    ],
    [
      "a non-base64 data URL",
      {
        messages: [
          { role: "user", content: [{ type: "image_url", image_url: { url: "data:image/png,raw" } }] },
        ],
      },
      400,
      "invalid_request",
      "base64",
    ],
    [
      "an image in a system message",
      {
        messages: [
          {
            role: "system",
            content: [{ type: "image_url", image_url: { url: "data:image/png;base64,AA==" } }],
          },
          USER,
        ],
      },
      400,
      "unsupported_parameter",
      "messages[0].content[0]",
    ],
    [
      "an image in an assistant message",
      {
        messages: [
          USER,
          {
            role: "assistant",
            content: [{ type: "image_url", image_url: { url: "data:image/png;base64,AA==" } }],
          },
        ],
      },
      400,
      "unsupported_parameter",
      "messages[1].content[0]",
    ],
    [
      "tool arguments that are not a JSON object",
      { messages: [USER, { role: "assistant", content: null, tool_calls: [toolCall] }] },
      400,
      "invalid_request",
      "messages[1].tool_calls[0]",
    ],
    [
      "a tool result without a matching call",
      { messages: [USER, { role: "tool", tool_call_id: "nope", content: "x" }] },
      400,
      "invalid_request",
      "messages[1].tool_call_id",
    ],
    [
      "no conversation at all",
      { messages: [{ role: "system", content: "only system" }] },
      400,
      "invalid_request",
      "messages",
    ],
    [
      "tool_choice required without tools",
      { tool_choice: "required" },
      400,
      "invalid_request",
      "tool_choice",
    ],
    [
      "tool_choice naming an undeclared function",
      {
        tools: [{ type: "function", function: { name: "a" } }],
        tool_choice: { type: "function", function: { name: "b" } },
      },
      400,
      "invalid_request",
      '"b"',
    ],
  ])("rejects %s", (_label, fields, status, code, mention) => {
    const e = rejection(() => buildGeminiRequest(req(fields), "gemini-2.5-flash", true));
    expect(e.status).toBe(status);
    expect(e.code).toBe(code);
    expect(e.message).toContain(mention);
  });
});

describe("geminiTranslator", () => {
  it("builds the same call as buildGeminiRequest", () => {
    expect(geminiTranslator.buildRequest(req(), "gemini-2.5-flash", true)).toEqual(
      buildGeminiRequest(req(), "gemini-2.5-flash", true),
    );
  });
});
