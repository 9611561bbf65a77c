import { describe, expect, it } from "vitest";
import { GatewayError } from "../../../../src/errors.ts";
import { anthropicTranslator, DEFAULT_MAX_TOKENS } from "../../../../src/upstream/anthropic/index.ts";
import type { ChatMessage, ChatRequest } from "../../../../src/upstream/openai-chat/types.ts";

function req(fields: Partial<ChatRequest> = {}): ChatRequest {
  return { model: "anthropic/claude-x", messages: [{ role: "user", content: "hi" }], extra: {}, ...fields };
}

function body(r: ChatRequest, stream = false): Record<string, unknown> {
  const call = anthropicTranslator.buildRequest(r, "claude-x", stream);
  const b = call.body;
  if (typeof b !== "object" || b === null) throw new Error("body is not an object");
  return { ...b };
}

function rejection(r: ChatRequest): GatewayError {
  try {
    anthropicTranslator.buildRequest(r, "claude-x", true);
  } catch (e) {
    if (e instanceof GatewayError) return e;
    throw e;
  }
  throw new Error("expected a GatewayError");
}

describe("buildRequest: call shape", () => {
  it("targets /v1/messages with the anthropic-version header and the upstream model", () => {
    const call = anthropicTranslator.buildRequest(req(), "claude-sonnet-4-5", true);
    expect(call.path).toBe("/v1/messages");
    expect(call.headers).toEqual({ "anthropic-version": "2023-06-01" });
    expect(call.body).toEqual({
      model: "claude-sonnet-4-5",
      max_tokens: DEFAULT_MAX_TOKENS,
      messages: [{ role: "user", content: [{ type: "text", text: "hi" }] }],
      stream: true,
    });
  });

  it("omits stream for a non-streaming call", () => {
    expect(body(req(), false)).not.toHaveProperty("stream");
  });

  it("defaults max_tokens to 4096 and prefers max_completion_tokens over max_tokens", () => {
    expect(body(req()).max_tokens).toBe(4096);
    expect(body(req({ max_tokens: 100 })).max_tokens).toBe(100);
    expect(body(req({ max_tokens: 100, max_completion_tokens: 200 })).max_tokens).toBe(200);
  });

  it("maps temperature, top_p and stop", () => {
    const b = body(req({ temperature: 0.3, top_p: 0.9, stop: "END" }));
    expect(b).toMatchObject({ temperature: 0.3, top_p: 0.9, stop_sequences: ["END"] });
    expect(body(req({ stop: ["a", "b"] })).stop_sequences).toEqual(["a", "b"]);
    expect(body(req({ stop: [] }))).not.toHaveProperty("stop_sequences");
  });

  it("accepts temperature 1, the top of Anthropic's range", () => {
    expect(body(req({ temperature: 1 })).temperature).toBe(1);
  });
});

describe("buildRequest: messages", () => {
  it("hoists system and developer messages into top-level system blocks", () => {
    const b = body(
      req({
        messages: [
          { role: "system", content: "Be brief." },
          { role: "user", content: "hi" },
          { role: "developer", content: [{ type: "text", text: "Use French." }] },
        ],
      }),
    );
    expect(b.system).toEqual([
      { type: "text", text: "Be brief." },
      { type: "text", text: "Use French." },
    ]);
    expect(b.messages).toEqual([{ role: "user", content: [{ type: "text", text: "hi" }] }]);
  });

  it("turns assistant tool_calls into tool_use blocks with parsed input and merges tool results into one user turn", () => {
    const messages: ChatMessage[] = [
      { role: "user", content: "weather in Paris and Rome?" },
      {
        role: "assistant",
        content: null,
        tool_calls: [
          {
            id: "call_1",
            type: "function",
            function: { name: "get_weather", arguments: '{"city":"Paris"}' },
          },
          { id: "call_2", type: "function", function: { name: "get_weather", arguments: '{"city":"Rome"}' } },
        ],
      },
      { role: "tool", tool_call_id: "call_1", content: "18C" },
      { role: "tool", tool_call_id: "call_2", content: [{ type: "text", text: "22C" }] },
      { role: "user", content: "thanks" },
    ];
    expect(body(req({ messages })).messages).toEqual([
      { role: "user", content: [{ type: "text", text: "weather in Paris and Rome?" }] },
      {
        role: "assistant",
        content: [
          { type: "tool_use", id: "call_1", name: "get_weather", input: { city: "Paris" } },
          { type: "tool_use", id: "call_2", name: "get_weather", input: { city: "Rome" } },
        ],
      },
      {
        role: "user",
        content: [
          { type: "tool_result", tool_use_id: "call_1", content: [{ type: "text", text: "18C" }] },
          { type: "tool_result", tool_use_id: "call_2", content: [{ type: "text", text: "22C" }] },
          { type: "text", text: "thanks" },
        ],
      },
    ]);
  });

  it("merges consecutive same-role turns so that roles alternate", () => {
    const b = body(
      req({
        messages: [
          { role: "user", content: "a" },
          { role: "user", content: "b" },
          { role: "assistant", content: "c" },
          { role: "assistant", content: "" },
          { role: "assistant", content: "d" },
        ],
      }),
    );
    expect(b.messages).toEqual([
      {
        role: "user",
        content: [
          { type: "text", text: "a" },
          { type: "text", text: "b" },
        ],
      },
      {
        role: "assistant",
        content: [
          { type: "text", text: "c" },
          { type: "text", text: "d" },
        ],
      },
    ]);
  });

  it("sends a tool call with empty arguments as an empty input object", () => {
    const b = body(
      req({
        messages: [
          { role: "user", content: "now?" },
          {
            role: "assistant",
            content: "",
            tool_calls: [{ id: "c", type: "function", function: { name: "now", arguments: "" } }],
          },
        ],
      }),
    );
    expect(b.messages).toEqual([
      { role: "user", content: [{ type: "text", text: "now?" }] },
      { role: "assistant", content: [{ type: "tool_use", id: "c", name: "now", input: {} }] },
    ]);
  });

  it("maps data URLs to base64 image sources and https URLs to url sources", () => {
    const b = body(
      req({
        messages: [
          {
            role: "user",
            content: [
              { type: "text", text: "compare" },
              { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
              { type: "image_url", image_url: { url: "https://example.com/cat.jpg", detail: "high" } },
            ],
          },
        ],
      }),
    );
    expect(b.messages).toEqual([
      {
        role: "user",
        content: [
          { type: "text", text: "compare" },
          { type: "image", source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" } },
          { type: "image", source: { type: "url", url: "https://example.com/cat.jpg" } },
        ],
      },
    ]);
  });
});

describe("buildRequest: tools", () => {
  const tool = {
    type: "function" as const,
    function: {
      name: "get_weather",
      description: "Weather",
      parameters: { type: "object", properties: { city: { type: "string" } } },
    },
  };

  it("maps tools to name, description and input_schema", () => {
    expect(body(req({ tools: [tool] })).tools).toEqual([
      {
        name: "get_weather",
        description: "Weather",
        input_schema: { type: "object", properties: { city: { type: "string" } } },
      },
    ]);
  });

  it("gives a tool without parameters an empty object schema, which Anthropic requires", () => {
    expect(body(req({ tools: [{ type: "function", function: { name: "now" } }] })).tools).toEqual([
      { name: "now", input_schema: { type: "object", properties: {} } },
    ]);
  });

  it.each([
    ["auto", { type: "auto" }],
    ["required", { type: "any" }],
    ["none", { type: "none" }],
    [
      { type: "function", function: { name: "get_weather" } },
      { type: "tool", name: "get_weather" },
    ],
  ] as const)("maps tool_choice %j to %j", (choice, expected) => {
    expect(body(req({ tools: [tool], tool_choice: choice })).tool_choice).toEqual(expected);
  });

  it("maps parallel_tool_calls: false to disable_parallel_tool_use", () => {
    expect(body(req({ tools: [tool], extra: { parallel_tool_calls: false } })).tool_choice).toEqual({
      type: "auto",
      disable_parallel_tool_use: true,
    });
    expect(
      body(req({ tools: [tool], tool_choice: "required", extra: { parallel_tool_calls: false } }))
        .tool_choice,
    ).toEqual({
      type: "any",
      disable_parallel_tool_use: true,
    });
  });
});

describe("buildRequest: accepted extras", () => {
  it("maps user to metadata.user_id", () => {
    expect(body(req({ extra: { user: "u-123" } })).metadata).toEqual({ user_id: "u-123" });
  });

  it("accepts harmless metadata, null fields and OpenAI's no-op defaults without changing the body", () => {
    const plain = body(req());
    const withExtras = body(
      req({
        extra: {
          metadata: { k: "v" },
          store: false,
          seed: null,
          presence_penalty: 0,
          frequency_penalty: 0,
          logprobs: false,
          parallel_tool_calls: true,
        },
      }),
    );
    expect(withExtras).toEqual(plain);
  });

  it("accepts response_format text and n: 1", () => {
    expect(body(req({ response_format: { type: "text" }, n: 1 }))).toEqual(body(req()));
  });
});

describe("buildRequest: 400 for what Anthropic cannot honour", () => {
  it.each([
    ["temperature above 1", req({ temperature: 1.5 }), "temperature"],
    ["n above 1", req({ n: 2 }), '"n"'],
    ["response_format json_object", req({ response_format: { type: "json_object" } }), "response_format"],
    [
      "response_format json_schema",
      req({ response_format: { type: "json_schema", json_schema: { name: "x", schema: {} } } }),
      "response_format",
    ],
    ["logprobs", req({ extra: { logprobs: true } }), "logprobs"],
    ["top_logprobs", req({ extra: { top_logprobs: 3 } }), "top_logprobs"],
    ["presence_penalty", req({ extra: { presence_penalty: 0.5 } }), "presence_penalty"],
    ["frequency_penalty", req({ extra: { frequency_penalty: -1 } }), "frequency_penalty"],
    ["seed", req({ extra: { seed: 7 } }), "seed"],
    ["logit_bias", req({ extra: { logit_bias: { "50256": -100 } } }), "logit_bias"],
    ["an unknown field", req({ extra: { reasoning_effort: "high" } }), "reasoning_effort"],
    [
      "an http image URL",
      req({
        messages: [
          { role: "user", content: [{ type: "image_url", image_url: { url: "http://x/cat.png" } }] },
        ],
      }),
      "image_url",
    ],
    [
      "a file image URL",
      req({
        messages: [
          { role: "user", content: [{ type: "image_url", image_url: { url: "file:///etc/passwd" } }] },
        ],
      }),
      "image_url",
    ],
    [
      "a non-base64 data URL",
      req({
        messages: [
          { role: "user", content: [{ type: "image_url", image_url: { url: "data:image/png,abc" } }] },
        ],
      }),
      "image_url",
    ],
    [
      "an unsupported image media type",
      req({
        messages: [
          {
            role: "user",
            content: [{ type: "image_url", image_url: { url: "data:image/tiff;base64,AA==" } }],
          },
        ],
      }),
      "image/tiff",
    ],
    [
      "an image in a system message",
      req({
        messages: [
          { role: "system", content: [{ type: "image_url", image_url: { url: "https://x/a.png" } }] },
        ],
      }),
      "image_url",
    ],
  ])("rejects %s with unsupported_parameter naming the field and provider", (_label, r, field) => {
    const e = rejection(r);
    expect(e.status).toBe(400);
    expect(e.code).toBe("unsupported_parameter");
    expect(e.message).toContain(field);
    expect(e.message).toContain("Anthropic");
  });

  it("rejects tool call arguments that are not a JSON object with invalid_request", () => {
    const e = rejection(
      req({
        messages: [
          { role: "user", content: "x" },
          {
            role: "assistant",
            content: null,
            tool_calls: [{ id: "call_9", type: "function", function: { name: "f", arguments: "[1]" } }],
          },
        ],
      }),
    );
    expect(e.status).toBe(400);
    expect(e.code).toBe("invalid_request");
    expect(e.message).toContain("call_9");
  });

  it.each([
    ["user", req({ extra: { user: 42 } })],
    ["parallel_tool_calls", req({ extra: { parallel_tool_calls: "no" } })],
  ])("rejects a mistyped %s with invalid_request naming it", (field, r) => {
    const e = rejection(r);
    expect(e.status).toBe(400);
    expect(e.code).toBe("invalid_request");
    expect(e.message).toContain(field);
  });

  it("rejects a forced tool_choice without tools instead of dropping it", () => {
    const e = rejection(req({ tool_choice: "required" }));
    expect(e.status).toBe(400);
    expect(e.code).toBe("invalid_request");
    expect(e.message).toContain("tool_choice");
  });
});
