import { describe, expect, it } from "vitest";
import { Conversation } from "../../../public/demo/conversation.ts";
import { curlLine, formatMs, serverCells } from "../../../public/demo/stream-facts.ts";

describe("the demo page's conversation", () => {
  it("sends every earlier turn as history, then the new message", () => {
    const chat = new Conversation();
    const first = chat.start("Hi");
    expect(first.messages).toEqual([{ role: "user", content: "Hi" }]);
    first.turn.answer = "Hello!";
    const second = chat.start("And then?");
    expect(second.messages).toEqual([
      { role: "user", content: "Hi" },
      { role: "assistant", content: "Hello!" },
      { role: "user", content: "And then?" },
    ]);
  });

  it("leaves out a turn that got no answer, and keeps a partial one", () => {
    const chat = new Conversation();
    chat.start("failed before the first token");
    const partial = chat.start("stopped half way");
    partial.turn.answer = "Half an";
    expect(chat.start("next").messages).toEqual([
      { role: "user", content: "stopped half way" },
      { role: "assistant", content: "Half an" },
      { role: "user", content: "next" },
    ]);
    expect(chat.turns).toHaveLength(3);
  });

  it("starts afresh after clear", () => {
    const chat = new Conversation();
    chat.start("Hi").turn.answer = "Hello";
    chat.clear();
    expect(chat.start("New").messages).toEqual([{ role: "user", content: "New" }]);
  });
});

describe("the demo page's stream facts", () => {
  it("writes a curl line with the URL and cursor single-quoted for the shell", () => {
    expect(curlLine("http://127.0.0.1:8787/v1/streams/abc?token=x.y", 12)).toBe(
      "curl -N 'http://127.0.0.1:8787/v1/streams/abc?token=x.y' -H 'Last-Event-ID: 12'",
    );
    expect(curlLine("http://h/it's", 0)).toBe("curl -N 'http://h/it'\\''s' -H 'Last-Event-ID: 0'");
  });

  it("shows milliseconds with a tenth only under 10 ms, and a dash for what was not measured", () => {
    expect([formatMs(0.84), formatMs(412.4), formatMs(undefined), formatMs(null)]).toEqual([
      "0.8 ms",
      "412 ms",
      "–",
      "–",
    ]);
    expect(serverCells({ gatewayTtftMs: 20, upstreamTtftMs: 15, overheadMs: 5 })).toEqual({
      gatewayTtft: "20 ms",
      upstreamTtft: "15 ms",
      overhead: "5.0 ms",
      holdback: "–",
    });
    expect(serverCells(null).gatewayTtft).toBe("–");
  });
});
