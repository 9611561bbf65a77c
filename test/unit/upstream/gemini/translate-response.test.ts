import { describe, expect, it } from "vitest";
import { GatewayError } from "../../../../src/errors.ts";
import { geminiTranslator, translateGeminiResponse } from "../../../../src/upstream/gemini/index.ts";
import { expectedSummary, identity, rawBlocks } from "./helpers.ts";

/**
 * The whole response a non-streaming call would have returned for a fixture: every chunk's parts in
 * one candidate, with the last finish reason and usage (built here, independently of the code).
 */
function wholeResponse(name: string): Record<string, unknown> {
  const parts: unknown[] = [];
  let finishReason: unknown;
  let usageMetadata: unknown;
  let promptFeedback: unknown;
  for (const block of rawBlocks(name)) {
    if (block.kind !== "data") continue;
    const candidate = (block.json.candidates as Record<string, unknown>[] | undefined)?.[0];
    const content = candidate?.content as { parts?: unknown[] } | undefined;
    parts.push(...(content?.parts ?? []));
    finishReason = candidate?.finishReason ?? finishReason;
    usageMetadata = block.json.usageMetadata ?? usageMetadata;
    promptFeedback = block.json.promptFeedback ?? promptFeedback;
  }
  const candidates =
    parts.length === 0 ? [] : [{ content: { parts, role: "model" }, finishReason, index: 0 }];
  return {
    candidates,
    ...(usageMetadata === undefined ? {} : { usageMetadata }),
    ...(promptFeedback === undefined ? {} : { promptFeedback }),
  };
}

describe.each([
  "gemini/stream-basic-long-crlf.sse",
  "gemini/stream-utf8-chinese.sse",
  "gemini/stream-thinking-function-call-signature.sse",
  "gemini/stream-prompt-blocked-safety.sse",
])("translateGeminiResponse on the whole of %s", (name) => {
  it("gives the content, reasoning, tool calls, finish reason and usage the response holds", () => {
    const expected = expectedSummary(name);
    const out = translateGeminiResponse(wholeResponse(name), identity(false));
    expect(out).toMatchObject({
      id: "chatcmpl-test",
      object: "chat.completion",
      created: 1_700_000_000,
      model: "gemini/gemini-test",
    });
    expect(out.choices).toHaveLength(1);
    const choice = out.choices[0];
    expect(choice?.message.content).toBe(expected.content === "" ? null : expected.content);
    expect(choice?.message.reasoning_content).toBe(
      expected.reasoning === "" ? undefined : expected.reasoning,
    );
    expect(
      (choice?.message.tool_calls ?? []).map((c) => ({
        name: c.function.name,
        arguments: c.function.arguments,
      })),
    ).toEqual(expected.toolCalls);
    expect(choice?.finish_reason).toBe(expected.finishReason);
    expect(out.usage).toEqual(expected.usage);
  });
});

describe("translateGeminiResponse", () => {
  it("gives tool calls ids derived from the response id", () => {
    const out = translateGeminiResponse(
      {
        candidates: [
          {
            content: {
              parts: [{ functionCall: { name: "a", args: { x: 1 } } }, { functionCall: { name: "b" } }],
            },
            finishReason: "STOP",
          },
        ],
      },
      identity(false, "chatcmpl-xyz"),
    );
    expect(out.choices[0]?.message.tool_calls).toEqual([
      { id: "call_xyz_0", type: "function", function: { name: "a", arguments: '{"x":1}' } },
      { id: "call_xyz_1", type: "function", function: { name: "b", arguments: "{}" } },
    ]);
    expect(out.choices[0]?.finish_reason).toBe("tool_calls");
  });

  it("keeps each candidate as its own choice", () => {
    const out = translateGeminiResponse(
      {
        candidates: [
          { index: 0, content: { parts: [{ text: "A" }] }, finishReason: "STOP" },
          { index: 1, content: { parts: [{ text: "B" }] }, finishReason: "MAX_TOKENS" },
        ],
      },
      identity(false),
    );
    expect(out.choices.map((c) => [c.index, c.message.content, c.finish_reason])).toEqual([
      [0, "A", "stop"],
      [1, "B", "length"],
    ]);
  });

  it.each([
    [
      "an error body",
      { error: { code: 400, message: "API key not valid", status: "INVALID_ARGUMENT" } },
      "INVALID_ARGUMENT",
    ],
    ["a non-object", ["not", "an", "object"], "not a JSON object"],
  ])("answers %s with a 502 upstream_error", (_label, input, mention) => {
    let caught: unknown;
    try {
      geminiTranslator.translateResponse(input, identity(false));
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(GatewayError);
    expect(caught instanceof GatewayError && [caught.status, caught.code]).toEqual([502, "upstream_error"]);
    expect(caught instanceof GatewayError ? caught.message : "").toContain(mention);
  });
});
