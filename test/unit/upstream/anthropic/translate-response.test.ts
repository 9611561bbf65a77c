import { describe, expect, it } from "vitest";
import { GatewayError } from "../../../../src/errors.ts";
import { anthropicTranslator } from "../../../../src/upstream/anthropic/index.ts";
import { identity } from "./helpers.ts";

/** A non-streaming Messages API response in the documented shape, with every block kind the mapping handles. */
const MESSAGE = {
  id: "msg_01",
  type: "message",
  role: "assistant",
  model: "claude-sonnet-4-5",
  content: [
    { type: "thinking", thinking: "User wants weather.", signature: "EvMC" },
    { type: "text", text: "Let me check " },
    { type: "server_tool_use", id: "srvtoolu_1", name: "web_search", input: { query: "paris weather" } },
    { type: "web_search_tool_result", tool_use_id: "srvtoolu_1", content: [] },
    { type: "text", text: "the weather." },
    { type: "tool_use", id: "toolu_1", name: "get_weather", input: { city: "Paris", days: [1, 2] } },
  ],
  stop_reason: "tool_use",
  stop_sequence: null,
  usage: { input_tokens: 100, cache_read_input_tokens: 20, output_tokens: 30 },
};

describe("translateResponse", () => {
  it("maps text, thinking, client tool calls, finish reason and usage", () => {
    const out = anthropicTranslator.translateResponse(MESSAGE, identity(false));
    expect(out).toEqual({
      id: "chatcmpl-test",
      object: "chat.completion",
      created: 1_700_000_000,
      model: "anthropic/claude-test",
      choices: [
        {
          index: 0,
          message: {
            role: "assistant",
            content: "Let me check the weather.",
            reasoning_content: "User wants weather.",
            tool_calls: [
              {
                id: "toolu_1",
                type: "function",
                function: { name: "get_weather", arguments: JSON.stringify({ city: "Paris", days: [1, 2] }) },
              },
            ],
          },
          finish_reason: "tool_calls",
        },
      ],
      usage: { prompt_tokens: 120, completion_tokens: 30, total_tokens: 150 },
    });
  });

  it("gives content null for a reply that is only tool calls, as OpenAI does", () => {
    const out = anthropicTranslator.translateResponse(
      { ...MESSAGE, content: [{ type: "tool_use", id: "t", name: "f", input: {} }] },
      identity(false),
    );
    expect(out.choices[0]?.message.content).toBeNull();
    expect(out.choices[0]?.message.tool_calls?.[0]?.function.arguments).toBe("{}");
  });

  it.each([
    ["end_turn", "stop"],
    ["max_tokens", "length"],
    ["refusal", "content_filter"],
    ["stop_sequence", "stop"],
  ])("maps stop_reason %s to %s", (reason, finish) => {
    const out = anthropicTranslator.translateResponse(
      { ...MESSAGE, content: [{ type: "text", text: "x" }], stop_reason: reason },
      identity(false),
    );
    expect(out.choices[0]?.finish_reason).toBe(finish);
    expect(out.choices[0]?.message).toEqual({ role: "assistant", content: "x" });
  });

  it.each([null, "oops", { type: "message" }, { content: "text" }])(
    "answers 502 upstream_error for a body without a content array (%j)",
    (bad) => {
      let caught: unknown;
      try {
        anthropicTranslator.translateResponse(bad, identity(false));
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(GatewayError);
      expect(caught).toMatchObject({ status: 502, code: "upstream_error" });
    },
  );
});
