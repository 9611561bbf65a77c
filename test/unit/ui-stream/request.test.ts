import { describe, expect, it } from "vitest";
import { parseUiChatRequest } from "../../../src/ui-stream/request.ts";

const hi = { id: "m1", role: "user", parts: [{ type: "text", text: "hi" }] };

function messagesFor(parts: unknown[], role = "assistant"): unknown {
  return parseUiChatRequest({ id: "c", model: "demo/story", messages: [{ id: "m", role, parts }] }).chat
    .messages;
}

describe("parseUiChatRequest", () => {
  it("reads useChat's body into a streaming Chat Completions body that asks for usage", () => {
    const body = {
      id: "chat_1",
      model: "demo/story",
      trigger: "submit-message",
      messageId: undefined,
      messages: [hi],
      temperature: 0.2,
    };
    expect(parseUiChatRequest(body)).toEqual({
      chatId: "chat_1",
      chat: {
        model: "demo/story",
        temperature: 0.2,
        messages: [{ role: "user", content: "hi" }],
        stream: true,
        stream_options: { include_usage: true },
      },
    });
  });

  it("sends a tool call that failed with its error text as the tool result", () => {
    const part = {
      type: "dynamic-tool",
      toolName: "lookup",
      toolCallId: "t1",
      state: "output-error",
      input: { q: 1 },
      errorText: "timeout",
    };
    expect(messagesFor([part])).toEqual([
      {
        role: "assistant",
        content: null,
        tool_calls: [{ id: "t1", type: "function", function: { name: "lookup", arguments: '{"q":1}' } }],
      },
      { role: "tool", tool_call_id: "t1", content: "timeout" },
    ]);
  });

  it("names the part of a tool call still without its output", () => {
    const part = { type: "tool-lookup", toolCallId: "t1", state: "input-available", input: {} };
    expect(() => messagesFor([part])).toThrow(/^messages\[0\]\.parts\[0\]\.state "input-available"/);
  });

  it("names a file that is not an image, and a file in an assistant message", () => {
    const pdf = { type: "file", mediaType: "application/pdf", url: "data:application/pdf;base64,AA==" };
    expect(() => messagesFor([pdf], "user")).toThrow(/^messages\[0\]\.parts\[0\]\.mediaType/);
    expect(() => messagesFor([{ type: "file", mediaType: "image/png", url: "x" }])).toThrow(
      /^messages\[0\]\.parts\[0\]\.type "file"/,
    );
  });

  it("names the role, the chat id and the model when they are wrong", () => {
    expect(() => messagesFor([{ type: "text", text: "x" }], "tool")).toThrow(/^messages\[0\]\.role/);
    expect(() => parseUiChatRequest({ id: "../x", model: "m", messages: [hi] })).toThrow(/^id /);
    expect(() => parseUiChatRequest({ id: "c", model: "", messages: [hi] })).toThrow(/^model is required/);
  });

  it("keeps reasoning, sources and data parts on the page", () => {
    const parts = [
      { type: "reasoning", text: "thinking" },
      { type: "source-url", sourceId: "s", url: "https://example.com" },
      { type: "data-weather", data: { t: 1 } },
      { type: "text", text: "answer" },
    ];
    expect(messagesFor(parts)).toEqual([{ role: "assistant", content: "answer" }]);
  });
});
