import { afterEach, describe, expect, it, vi } from "vitest";
import { ERROR_CODE } from "../../../src/protocol.ts";
import { SseDecoder } from "../../../src/sse/decoder.ts";
import type { SseEvent } from "../../../src/sse/types.ts";
import type { FormatName } from "../../../src/upstream/format.ts";
import { FORMATS } from "../../../src/upstream/registry.ts";
import { wire } from "../../support/fixtures.ts";

// The events each format writes itself (in-band errors, guardrail endings) are built from their fields,
// never decoded from text. These tests pin two things: the bytes on the wire are exactly what the
// gateway wrote before (a client's SDK parses them), and every parsed field is what a decoder reads
// back from those bytes, so nothing downstream can tell a built event from a decoded one.

function decode(text: string): SseEvent[] {
  const decoder = new SseDecoder();
  return [...decoder.push(text), ...decoder.end()];
}

const NAMES = Object.keys(FORMATS) as FormatName[];
const ERROR = { code: ERROR_CODE.upstreamInterrupted, message: 'cut "short"\nreally' };
const RULE = "payment_card";
const NOW = Date.UTC(2026, 0, 1);
const CREATED = Math.floor(NOW / 1000);

/** What each format wrote before its events were built from fields, byte for byte. */
const ERROR_WIRE: Readonly<Record<FormatName, string>> = {
  "openai-chat": `data: {"error":{"message":"cut \\"short\\"\\nreally","type":"server_error","param":null,"code":"upstream_interrupted"}}\n\n`,
  "workers-ai": `data: {"error":{"message":"cut \\"short\\"\\nreally","type":"server_error","param":null,"code":"upstream_interrupted"}}\n\n`,
  "openai-responses": `event: error\ndata: {"type":"error","code":"upstream_interrupted","message":"cut \\"short\\"\\nreally","param":null}\n\n`,
  anthropic: `event: error\ndata: {"type":"error","error":{"type":"api_error","message":"cut \\"short\\"\\nreally"}}\n\n`,
  gemini: `data: {"error":{"code":503,"message":"cut \\"short\\"\\nreally","status":"UNAVAILABLE"}}\r\n\r\n`,
};

const BLOCKED_WIRE: Readonly<Record<FormatName, string>> = {
  "openai-chat": `data: {"id":"chatcmpl-guardrail","object":"chat.completion.chunk","created":${CREATED},"model":"","choices":[{"index":0,"delta":{},"finish_reason":"content_filter"}],"guardrail":{"rule":"payment_card"}}\n\ndata: [DONE]\n\n`,
  "workers-ai": `data: {"response":"","finish_reason":"content_filter","guardrail":{"rule":"payment_card"}}\n\ndata: [DONE]\n\n`,
  "openai-responses": `event: response.incomplete\ndata: {"type":"response.incomplete","response":{"object":"response","status":"incomplete","incomplete_details":{"reason":"content_filter"},"guardrail":{"rule":"payment_card"}}}\n\n`,
  anthropic:
    `event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"refusal","stop_sequence":null,"stop_details":{"type":"refusal","category":null,"explanation":"response blocked by guardrail rule \\"payment_card\\""}},"usage":{"output_tokens":0}}\n\n` +
    `event: error\ndata: {"type":"error","error":{"type":"invalid_request_error","message":"response blocked by guardrail rule \\"payment_card\\""}}\n\n` +
    `event: message_stop\ndata: {"type":"message_stop"}\n\n`,
  gemini: `data: {"candidates":[{"content":{"parts":[],"role":"model"},"finishReason":"SAFETY","finishMessage":"Response blocked by the gateway guardrail rule \\"payment_card\\".","index":0}]}\r\n\r\n`,
};

afterEach(() => {
  vi.useRealTimers();
});

describe.each(NAMES)("the %s format's own events", (name) => {
  const format = FORMATS[name];

  it("writes an in-band error with the bytes it always wrote, each event parsed as a decoder would", () => {
    const events = format.errorEvents(ERROR);
    expect(wire(events)).toBe(ERROR_WIRE[name]);
    expect(events).toEqual(decode(wire(events)));
  });

  it("writes a guardrail ending with the bytes it always wrote, each event parsed as a decoder would", () => {
    vi.useFakeTimers({ now: NOW });
    const events = format.blockedEvents(RULE);
    expect(wire(events)).toBe(BLOCKED_WIRE[name]);
    expect(events).toEqual(decode(wire(events)));
  });

  it("writes every error code as one event or more that the format itself reads as an error", () => {
    for (const code of Object.values(ERROR_CODE)) {
      const events = format.errorEvents({ code, message: "m" });
      expect(events.length, code).toBeGreaterThan(0);
      expect(events).toEqual(decode(wire(events)));
      expect(
        events.some((ev) => format.inspect(ev).signal === "error"),
        code,
      ).toBe(true);
    }
  });
});
