import Anthropic, { APIError } from "@anthropic-ai/sdk";
import { afterEach, describe, expect, it, vi } from "vitest";
import { anthropicFormat } from "../../../../src/upstream/anthropic/index.ts";
import { decodeAll, readFixture, wire } from "../../../support/fixtures.ts";
import { ANTHROPIC_FIXTURES, decodeText, expectedSummary } from "./helpers.ts";

/** Events whose payload can carry text, usage, a finish reason or an error: the only ones worth parsing. */
const PARSED_EVENTS = new Set(["content_block_delta", "message_start", "message_delta", "error"]);

/** Runs `frames` through the real Anthropic SDK as a streaming response and reports what it yields and throws. */
async function throughSdk(frames: string): Promise<{ events: unknown[]; error: unknown }> {
  const client = new Anthropic({
    apiKey: "test-key",
    maxRetries: 0,
    fetch: async () => new Response(frames, { headers: { "content-type": "text/event-stream" } }),
  });
  const events: unknown[] = [];
  try {
    const stream = await client.messages.create({
      model: "claude-test",
      max_tokens: 10,
      messages: [{ role: "user", content: "hi" }],
      stream: true,
    });
    for await (const ev of stream) events.push(ev);
  } catch (error) {
    return { events, error };
  }
  return { events, error: undefined };
}

/** A valid stream opening, so the SDK has a message to attach later events to. */
const MESSAGE_START =
  'event: message_start\ndata: {"type":"message_start","message":{"id":"m","type":"message","role":"assistant","model":"c","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":1,"output_tokens":1}}}\n\n';

afterEach(() => {
  vi.restoreAllMocks();
});

describe.each(ANTHROPIC_FIXTURES)("anthropicFormat.inspect on %s", (name) => {
  const expected = expectedSummary(name);

  it("reads every text channel, the finish reason, usage and the complete signal", async () => {
    const events = await decodeAll([readFixture(name)]);
    const channels = new Map<string, string>();
    const signals: string[] = [];
    let completeAt = -1;
    const finishReasons: string[] = [];
    let inputTokens: number | undefined;
    let outputTokens: number | undefined;
    for (const ev of events) {
      const info = anthropicFormat.inspect(ev);
      for (const p of info.parts) channels.set(p.channel, (channels.get(p.channel) ?? "") + p.text);
      if (info.signal !== undefined) signals.push(info.signal);
      if (info.signal === "complete") completeAt = events.indexOf(ev);
      if (info.finishReason !== undefined) finishReasons.push(info.finishReason);
      inputTokens = info.usage?.inputTokens ?? inputTokens;
      outputTokens = info.usage?.outputTokens ?? outputTokens;
    }
    expect(channels).toEqual(expected.channels);
    expect(signals).toEqual(["complete"]);
    expect(completeAt).toBe(events.length - 1);
    expect(finishReasons).toEqual([expected.rawStopReason]);
    expect(inputTokens).toBe(expected.inputTokens);
    expect(outputTokens).toBe(expected.outputTokens);
  });

  it("JSON-parses only the events that can carry something", async () => {
    const events = await decodeAll([readFixture(name)]);
    const parse = vi.spyOn(JSON, "parse");
    for (const ev of events) anthropicFormat.inspect(ev);
    const worth = events.filter((ev) => ev.event !== undefined && PARSED_EVENTS.has(ev.event)).length;
    expect(parse).toHaveBeenCalledTimes(worth);
    expect(worth).toBeLessThan(events.length);
  });

  it("rewrites every text event with identical texts into semantically identical JSON", async () => {
    const events = await decodeAll([readFixture(name)]);
    let rewritten = 0;
    for (const ev of events) {
      const parts = anthropicFormat.inspect(ev).parts;
      if (parts.length === 0) continue;
      const out = anthropicFormat.rewrite(
        ev,
        parts.map((p) => p.text),
      );
      expect(JSON.parse(out.data)).toEqual(JSON.parse(ev.data));
      const [again] = decodeText(out.raw);
      expect(again?.event).toBe(ev.event);
      expect(again?.data).toBe(out.data);
      rewritten++;
    }
    expect(rewritten).toBeGreaterThan(0);
  });
});

describe("anthropicFormat.inspect", () => {
  it("signals an in-stream error with the upstream message, and the end of the stream", () => {
    const [ev] = decodeText(
      'event: error\ndata: {"type":"error","error":{"details":null,"type":"overloaded_error","message":"Overloaded"},"request_id":"req_1"}\n\n',
    );
    if (ev === undefined) throw new Error("decode failed");
    expect(anthropicFormat.inspect(ev)).toEqual({
      parts: [],
      signal: "error",
      endOfStream: true,
      errorMessage: "Overloaded",
    });
  });

  it("reports cached input tokens as part of inputTokens", () => {
    const [ev] = decodeText(
      'event: message_start\ndata: {"type":"message_start","message":{"usage":{"input_tokens":3,"cache_read_input_tokens":40,"output_tokens":1}}}\n\n',
    );
    if (ev === undefined) throw new Error("decode failed");
    expect(anthropicFormat.inspect(ev).usage).toEqual({ inputTokens: 43, outputTokens: 1 });
  });
});

describe("anthropicFormat.rewrite", () => {
  const delta =
    'event: content_block_delta\r\ndata: {"type":"content_block_delta","index":3,"delta":{"type":"text_delta","text":"call 555-0100"}}   \r\n\r\n';

  it("changes only the text and keeps the event line and CRLF line style", () => {
    const [ev] = decodeText(delta);
    if (ev === undefined) throw new Error("decode failed");
    const out = anthropicFormat.rewrite(ev, ["call [redacted]"]);
    expect(out.raw).toBe(
      'event: content_block_delta\r\ndata: {"type":"content_block_delta","index":3,"delta":{"type":"text_delta","text":"call [redacted]"}}\r\n\r\n',
    );
    expect(out.newline).toBe("\r\n");
    expect(out.terminated).toBe(true);
    const original = JSON.parse(ev.data);
    original.delta.text = "call [redacted]";
    expect(JSON.parse(out.data)).toEqual(original);
    expect(anthropicFormat.inspect(out).parts).toEqual([{ channel: "b3/text", text: "call [redacted]" }]);
  });

  it("rewrites thinking and tool input text in their own fields", () => {
    const [thinking, input] = decodeText(
      'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"a"}}\n\n' +
        'event: content_block_delta\ndata: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\\"x"}}\n\n',
    );
    if (thinking === undefined || input === undefined) throw new Error("decode failed");
    expect(JSON.parse(anthropicFormat.rewrite(thinking, ["b"]).data).delta).toEqual({
      type: "thinking_delta",
      thinking: "b",
    });
    expect(JSON.parse(anthropicFormat.rewrite(input, ['{"y']).data).delta).toEqual({
      type: "input_json_delta",
      partial_json: '{"y',
    });
  });

  it("returns an event without text unchanged and refuses a text count that does not match", () => {
    const [ping, text] = decodeText(
      `event: ping\ndata: {"type": "ping"}\n\n${delta.replaceAll("\r\n", "\n")}`,
    );
    if (ping === undefined || text === undefined) throw new Error("decode failed");
    expect(anthropicFormat.rewrite(ping, [])).toBe(ping);
    expect(() => anthropicFormat.rewrite(ping, ["x"])).toThrow(RangeError);
    expect(() => anthropicFormat.rewrite(text, ["a", "b"])).toThrow(RangeError);
  });
});

describe("anthropicFormat.errorEvents", () => {
  it("writes an Anthropic error event that parses back to the right JSON", () => {
    const frames = wire(
      anthropicFormat.errorEvents({
        code: "upstream_interrupted",
        message: "upstream went away",
      }),
    );
    expect(frames.endsWith("\n\n")).toBe(true);
    const events = decodeText(frames);
    expect(events).toHaveLength(1);
    expect(events[0]?.event).toBe("error");
    expect(events[0]?.terminated).toBe(true);
    expect(JSON.parse(events[0]?.data ?? "")).toEqual({
      type: "error",
      error: { type: "api_error", message: "upstream went away" },
    });
  });

  it.each([
    ["rate_limited", "rate_limit_error"],
    ["upstream_timeout", "timeout_error"],
    ["unauthorized", "authentication_error"],
    ["guardrail_blocked", "invalid_request_error"],
    ["internal_error", "api_error"],
  ] as const)("types code %s as %s", (code, type) => {
    const [ev] = decodeText(wire(anthropicFormat.errorEvents({ code, message: "m" })));
    expect(JSON.parse(ev?.data ?? "").error.type).toBe(type);
  });

  it("makes the real Anthropic SDK raise an APIError with the message", async () => {
    const { events, error } = await throughSdk(
      MESSAGE_START +
        wire(anthropicFormat.errorEvents({ code: "upstream_error", message: "provider fell over" })),
    );
    expect(events).toHaveLength(1);
    expect(error).toBeInstanceOf(APIError);
    expect(String(error instanceof Error ? error.message : "")).toContain("provider fell over");
  });
});

describe("anthropicFormat.blockedEvents", () => {
  it("ends with a refusal message_delta, an error naming the rule, then message_stop", () => {
    const events = decodeText(wire(anthropicFormat.blockedEvents("pii-ssn")));
    expect(events.map((e) => e.event)).toEqual(["message_delta", "error", "message_stop"]);
    const [delta, error, stop] = events.map((e) => JSON.parse(e.data));
    expect(delta.delta.stop_reason).toBe("refusal");
    expect(typeof delta.usage.output_tokens).toBe("number");
    expect(error).toEqual({
      type: "error",
      error: { type: "invalid_request_error", message: 'response blocked by guardrail rule "pii-ssn"' },
    });
    expect(stop).toEqual({ type: "message_stop" });
    const first = events[0];
    if (first === undefined) throw new Error("decode failed");
    expect(anthropicFormat.inspect(first).finishReason).toBe("refusal");
  });

  it("makes the real Anthropic SDK see the refusal and then raise naming the rule", async () => {
    const { events, error } = await throughSdk(
      MESSAGE_START + wire(anthropicFormat.blockedEvents("no-secrets")),
    );
    expect(events).toHaveLength(2);
    expect(events[1]).toMatchObject({ type: "message_delta", delta: { stop_reason: "refusal" } });
    expect(error).toBeInstanceOf(APIError);
    expect(String(error instanceof Error ? error.message : "")).toContain("no-secrets");
  });
});
