import { describe, expect, it } from "vitest";
import type { SseEvent } from "../../../src/sse/types.ts";
import { decodeAll, oneByteChunks, readFixture, splitAt } from "../../support/fixtures.ts";

async function decodeFixture(name: string): Promise<SseEvent[]> {
  return decodeAll([readFixture(name)]);
}

function last<T>(items: readonly T[]): T {
  const item = items[items.length - 1];
  if (item === undefined) throw new Error("expected a non-empty list");
  return item;
}

/** Byte offsets of every occurrence of `needle` in `bytes`. */
function offsetsOf(bytes: Uint8Array, needle: string): number[] {
  const pattern = new TextEncoder().encode(needle);
  const found: number[] = [];
  outer: for (let i = 0; i + pattern.length <= bytes.length; i++) {
    for (let j = 0; j < pattern.length; j++) if (bytes[i + j] !== pattern[j]) continue outer;
    found.push(i);
  }
  return found;
}

describe("recorded streams decode to the events SOURCES.md describes", () => {
  // Counts are SOURCES.md's; every one of these streams ends with a blank line.
  it.each([
    ["openai/chat-text-include-usage.sse", 34],
    ["openai/chat-finish-length.sse", 5],
    ["openai/chat-parallel-tool-calls.sse", 26],
    ["openai/chat-json-object-181-events.sse", 181],
    ["openai/chat-n3-interleaved-choices.sse", 50],
    ["openai/chat-refusal-delta.sse", 14],
    ["openai/chat-obfuscation-moderation.sse", 7],
    ["openai/responses-reasoning-summary-676-events.sse", 676],
    ["openai/responses-text-and-function-call.sse", 33],
    ["openai/responses-error-insufficient-quota.sse", 4],
    ["azure/chat-content-filter-results.sse", 9],
    ["anthropic/messages-text-ping-minimal.sse", 7],
    ["anthropic/messages-thinking-then-text-118-events.sse", 118],
    ["anthropic/messages-code-execution-emoji-split.sse", 35],
    ["gemini/stream-basic-long-crlf.sse", 36],
    ["gemini/stream-utf8-chinese.sse", 4],
    ["gemini/stream-thinking-function-call-signature.sse", 3],
    ["cloudflare/workers-ai-llama-text.sse", 27],
    ["groq/compound-web-search-emoji-227-events.sse", 227],
  ])("%s has %i terminated events", async (name, count) => {
    const events = await decodeFixture(name);
    expect(events).toHaveLength(count);
    expect(events.every((ev) => ev.terminated && ev.hasData)).toBe(true);
  });

  it("ends Chat Completions streams with data: [DONE]", async () => {
    const events = await decodeFixture("openai/chat-text-include-usage.sse");
    expect(last(events).data).toBe("[DONE]");
    expect(last(events).raw).toBe("data: [DONE]\n\n");
    expect(events.slice(0, -1).every((ev) => JSON.parse(ev.data).object === "chat.completion.chunk")).toBe(
      true,
    );
  });

  it("reads Anthropic event names in order, with whitespace-padded JSON data intact", async () => {
    const events = await decodeFixture("anthropic/messages-text-ping-minimal.sse");
    expect(events.map((ev) => ev.event)).toEqual([
      "message_start",
      "content_block_start",
      "ping",
      "content_block_delta",
      "content_block_stop",
      "message_delta",
      "message_stop",
    ]);
    expect(events[2]?.data).toBe('{"type": "ping"}');
    expect(last(events).data).toMatch(/^\{"type":"message_stop"\s+\}$/);
  });

  it("keeps the Responses API sequence numbers in order, one per event", async () => {
    const events = await decodeAll(
      oneByteChunks(readFixture("openai/responses-reasoning-summary-676-events.sse")),
    );
    expect(events.map((ev) => JSON.parse(ev.data).sequence_number)).toEqual(events.map((_, i) => i));
    expect(events.map((ev) => ev.event)).toEqual(events.map((ev) => JSON.parse(ev.data).type));
  });

  it("emits the unterminated final message_stop at end of input, marked terminated: false", async () => {
    const events = await decodeFixture("anthropic/messages-tool-use-input-json-delta.sse");
    // SOURCES.md counts 14: the events a spec parser dispatches. The 15th has no blank line.
    expect(events).toHaveLength(15);
    expect(events.filter((ev) => ev.terminated)).toHaveLength(14);
    const final = last(events);
    expect(final).toMatchObject({
      event: "message_stop",
      data: '{"type":"message_stop"}',
      terminated: false,
    });
    expect(final.raw).toBe('event: message_stop\ndata: {"type":"message_stop"}');
    expect(events.filter((ev) => JSON.parse(ev.data).delta?.type === "input_json_delta")).toHaveLength(5);
  });

  it("emits the truncated tool-input stream's final event unterminated too", async () => {
    const events = await decodeFixture("anthropic/messages-max-tokens-truncated-tool-input.sse");
    expect(events.filter((ev) => ev.terminated)).toHaveLength(15);
    expect(last(events)).toMatchObject({ event: "message_stop", terminated: false });
  });

  it("reports CRLF as the newline of every Gemini block", async () => {
    const events = await decodeFixture("gemini/stream-basic-long-crlf.sse");
    expect(events.every((ev) => ev.newline === "\r\n" && ev.raw.endsWith("\r\n\r\n"))).toBe(true);
    expect(JSON.parse(last(events).data).candidates[0].finishReason).toBe("STOP");
  });

  it("emits the Gemini prompt-blocked event that ends in a single CRLF as unterminated", async () => {
    const [only, ...rest] = await decodeFixture("gemini/stream-prompt-blocked-safety.sse");
    expect(rest).toHaveLength(0);
    expect(only).toMatchObject({ newline: "\r\n", terminated: false, hasData: true });
    expect(only?.raw.endsWith("}\r\n")).toBe(true);
    expect(JSON.parse(only?.data ?? "").promptFeedback.blockReason).toBe("SAFETY");
  });

  it("collects the bare JSON error written into a Gemini stream as stray lines", async () => {
    const events = await decodeFixture("gemini/stream-error-mid-stream.sse");
    expect(events).toHaveLength(3);
    expect(events.slice(0, 2).every((ev) => ev.hasData && ev.strayLines.length === 0)).toBe(true);
    const stray = last(events);
    expect(stray).toMatchObject({ hasData: false, data: "", event: undefined, terminated: false });
    expect(stray.strayLines).toHaveLength(13);
    expect(stray.strayLines[0]).toBe("{");
    expect(JSON.parse(stray.strayLines.join("\n")).error).toMatchObject({ code: 499, status: "CANCELLED" });
  });

  it("emits each OpenRouter keep-alive comment as its own data-less block", async () => {
    const events = await decodeFixture("openrouter/keepalive-comments-error-chunk.sse");
    const keepAlives = events.slice(0, 17);
    expect(keepAlives.every((ev) => ev.raw === ": OPENROUTER PROCESSING\n\n")).toBe(true);
    expect(
      keepAlives.every((ev) => !ev.hasData && ev.event === undefined && ev.strayLines.length === 0),
    ).toBe(true);
    const rest = events.slice(17);
    expect(rest.length).toBeGreaterThan(1);
    expect(rest.every((ev) => ev.hasData)).toBe(true);
    expect(last(rest).data).toBe("[DONE]");
    expect(rest.some((ev) => JSON.parse(ev.data === "[DONE]" ? "{}" : ev.data).error?.code === 400)).toBe(
      true,
    );
  });

  it("reads Groq's event: error after 94 data chunks", async () => {
    const events = await decodeFixture("groq/tool-use-failed-error-event.sse");
    expect(events).toHaveLength(95);
    expect(events.slice(0, 94).every((ev) => ev.event === undefined)).toBe(true);
    expect(last(events).event).toBe("error");
    expect(JSON.parse(last(events).data).error.code).toBe("tool_use_failed");
  });

  it("keeps the 11.8 KB single line whole", async () => {
    const events = await decodeFixture("groq/compound-web-search-emoji-227-events.sse");
    const longest = Math.max(...events.map((ev) => ev.data.length));
    expect(longest).toBeGreaterThan(11_000);
  });
});

describe("multi-byte characters split inside the character", () => {
  // Each case: a fixture, a character in it, and a check on the decoded data.
  it.each([
    ["openai/chat-json-object-181-events.sse", "°"],
    ["gemini/stream-utf8-chinese.sse", "秋"],
    ["groq/compound-web-search-emoji-227-events.sse", "🌡"],
    ["anthropic/messages-code-execution-emoji-split.sse", "✅"],
  ])("%s keeps %s intact at every cut inside it", async (name, char) => {
    const bytes = readFixture(name);
    const whole = await decodeAll([bytes]);
    const width = new TextEncoder().encode(char).length;
    expect(width).toBeGreaterThan(1);
    const offsets = offsetsOf(bytes, char);
    expect(offsets.length).toBeGreaterThan(0);
    for (const at of offsets.slice(0, 5)) {
      for (let cut = 1; cut < width; cut++) {
        const events = await decodeAll(splitAt(bytes, [at + cut]));
        expect(events).toEqual(whole);
      }
    }
    expect(whole.some((ev) => ev.data.includes(char))).toBe(true);
    expect(whole.some((ev) => ev.raw.includes("\uFFFD"))).toBe(false);
  });

  it("decodes all 204 three-byte characters of the Chinese poem from one-byte reads", async () => {
    const events = await decodeAll(oneByteChunks(readFixture("gemini/stream-utf8-chinese.sse")));
    const text = events.map((ev) => JSON.parse(ev.data).candidates[0].content.parts[0].text).join("");
    // U+0800..U+FFFF is exactly the range UTF-8 encodes in three bytes (Han and CJK punctuation here).
    expect(text.match(/[\u0800-\uffff]/gu)).toHaveLength(204);
    expect(text.startsWith("秋风瑟瑟，叶落纷纷，")).toBe(true);
  });

  it("keeps the keycap emoji split across two Anthropic events as the provider sent it", async () => {
    const events = await decodeAll(
      oneByteChunks(readFixture("anthropic/messages-code-execution-emoji-split.sse")),
    );
    const texts = events.map((ev) => JSON.parse(ev.data).delta?.text).filter((t) => typeof t === "string");
    const i = texts.findIndex((t) => t.endsWith("1\uFE0F"));
    expect(i).toBeGreaterThanOrEqual(0);
    expect(texts[i + 1]?.startsWith("\u20E3")).toBe(true);
  });
});
