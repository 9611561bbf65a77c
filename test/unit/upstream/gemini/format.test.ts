import { ApiError, type GenerateContentResponse, GoogleGenAI } from "@google/genai";
import { describe, expect, it } from "vitest";
import { SseDecoder } from "../../../../src/sse/decoder.ts";
import type { SseEvent } from "../../../../src/sse/types.ts";
import {
  GeminiStreamTranslator,
  geminiErrorStatus,
  geminiFormat,
} from "../../../../src/upstream/gemini/index.ts";
import { decodeAll, decodedText, readFixture, wire } from "../../../support/fixtures.ts";
import { collect, expectedSummary, GEMINI_FIXTURES, identity, translate } from "./helpers.ts";

function decodeText(text: string): SseEvent[] {
  const decoder = new SseDecoder();
  return [...decoder.push(text), ...decoder.end()];
}

/** Streams `frames` to the real Google GenAI SDK and reports the chunks it yields and what it throws. */
async function throughSdk(frames: string): Promise<{ chunks: GenerateContentResponse[]; error: unknown }> {
  const ai = new GoogleGenAI({
    apiKey: "test-key",
    httpOptions: {
      fetch: async () => new Response(frames, { headers: { "content-type": "text/event-stream" } }),
    },
  });
  const chunks: GenerateContentResponse[] = [];
  try {
    const stream = await ai.models.generateContentStream({ model: "gemini-test", contents: "hi" });
    for await (const chunk of stream) chunks.push(chunk);
  } catch (error) {
    return { chunks, error };
  }
  return { chunks, error: undefined };
}

describe.each(GEMINI_FIXTURES)("geminiFormat.inspect on %s", (name) => {
  const expected = expectedSummary(name);

  it("reads every text channel, the finish reason, usage and the end signals", async () => {
    const events = await decodeAll([readFixture(name)]);
    const channels = new Map<string, string>();
    const signals: string[] = [];
    let finishReason: string | undefined;
    let inputTokens: number | undefined;
    let outputTokens: number | undefined;
    for (const ev of events) {
      const info = geminiFormat.inspect(ev);
      for (const p of info.parts) channels.set(p.channel, (channels.get(p.channel) ?? "") + p.text);
      if (info.signal !== undefined) signals.push(info.signal);
      finishReason = info.finishReason ?? finishReason;
      inputTokens = info.usage?.inputTokens ?? inputTokens;
      outputTokens = info.usage?.outputTokens ?? outputTokens;
    }
    expect(channels).toEqual(expected.channels);
    expect(inputTokens).toBe(expected.usage?.prompt_tokens);
    expect(outputTokens).toBe(expected.usage?.completion_tokens);
    if (expected.bareError !== undefined) {
      // The client cannot see the bare JSON error, so it must be reported for re-framing, last.
      expect(signals[signals.length - 1]).toBe("stray-error");
    } else {
      expect(signals.length).toBeGreaterThan(0);
      expect(new Set(signals)).toEqual(new Set(["complete"]));
      expect(finishReason).toBeDefined();
    }
  });
});

describe("geminiFormat.inspect specifics", () => {
  it("reports the bare mid-stream error's message for re-framing", async () => {
    const events = await decodeAll([readFixture("gemini/stream-error-mid-stream.sse")]);
    const last = events[events.length - 1];
    expect(last?.hasData).toBe(false);
    const info = geminiFormat.inspect(last as SseEvent);
    expect(info).toEqual({
      parts: [],
      signal: "stray-error",
      errorMessage: "CANCELLED: The operation was cancelled.",
    });
  });

  it("signals complete with the block reason for a refused prompt", async () => {
    const [ev] = await decodeAll([readFixture("gemini/stream-prompt-blocked-safety.sse")]);
    expect(geminiFormat.inspect(ev as SseEvent)).toMatchObject({
      parts: [],
      signal: "complete",
      finishReason: "SAFETY",
    });
  });

  it("signals error for a data chunk with a top-level error object", () => {
    const [ev] = decodeText(
      'data: {"error":{"code":500,"message":"Internal error","status":"INTERNAL"}}\r\n\r\n',
    );
    expect(geminiFormat.inspect(ev as SseEvent)).toEqual({
      parts: [],
      signal: "error",
      errorMessage: "INTERNAL: Internal error",
    });
  });

  it("shows a function call's arguments as JSON on its own channel", async () => {
    const events = await decodeAll([readFixture("gemini/stream-thinking-function-call-signature.sse")]);
    const parts = events.flatMap((ev) => geminiFormat.inspect(ev).parts);
    expect(parts.map((p) => p.channel)).toEqual(["c0/thought", "c0/thought", "c0/call0"]);
    expect(parts[2]?.text).toBe("{}");
  });
});

describe("geminiFormat.rewrite", () => {
  it("replaces the text, keeps every other field and the block's CRLF framing", async () => {
    const [ev] = await decodeAll([readFixture("gemini/stream-basic-long-crlf.sse")]);
    const original = ev as SseEvent;
    const out = geminiFormat.rewrite(original, ["Ｏｋａｙ [redacted]"]);
    expect(out.raw.endsWith("\r\n\r\n")).toBe(true);
    expect(out.raw.replace(/\r\n/g, "")).not.toMatch(/[\r\n]/);
    const [again] = decodeText(out.raw);
    expect(geminiFormat.inspect(again as SseEvent).parts).toEqual([
      { channel: "c0/text", text: "Ｏｋａｙ [redacted]" },
    ]);
    const before = JSON.parse(original.data);
    before.candidates[0].content.parts[0].text = "Ｏｋａｙ [redacted]";
    expect(JSON.parse(out.data)).toEqual(before);
  });

  it("keeps a thought part a thought and rewrites call arguments only when they stay a JSON object", async () => {
    const events = await decodeAll([readFixture("gemini/stream-thinking-function-call-signature.sse")]);
    const thought = geminiFormat.rewrite(events[0] as SseEvent, ["hidden"]);
    expect(geminiFormat.inspect(thought).parts).toEqual([{ channel: "c0/thought", text: "hidden" }]);

    const call = events[2] as SseEvent;
    const replaced = JSON.parse(geminiFormat.rewrite(call, ['{"tz":"UTC"}']).data);
    expect(replaced.candidates[0].content.parts[0].functionCall).toEqual({
      name: "now",
      args: { tz: "UTC" },
    });
    expect(replaced.candidates[0].content.parts[0].thoughtSignature).toBe(
      JSON.parse(call.data).candidates[0].content.parts[0].thoughtSignature,
    );
    const redacted = JSON.parse(geminiFormat.rewrite(call, ["[redacted]"]).data);
    expect(redacted.candidates[0].content.parts[0].functionCall).toEqual({ name: "now", args: {} });
  });

  it("produces events the Google SDK still reads", async () => {
    const events = await decodeAll([readFixture("gemini/stream-utf8-chinese.sse")]);
    const frames = events
      .map((ev, i) => (i === 1 ? geminiFormat.rewrite(ev, ["＊＊＊"]).raw : ev.raw))
      .join("");
    const { chunks, error } = await throughSdk(frames);
    expect(error).toBeUndefined();
    expect(chunks.map((c) => c.text)).toEqual(
      events.map((ev, i) => (i === 1 ? "＊＊＊" : JSON.parse(ev.data).candidates[0].content.parts[0].text)),
    );
  });
});

describe("geminiFormat.errorEvents", () => {
  it("writes Google's error object with an HTTP code and canonical status", () => {
    const frames = wire(
      geminiFormat.errorEvents({ code: "upstream_interrupted", message: "upstream went away" }),
    );
    expect(frames.endsWith("\r\n\r\n")).toBe(true);
    const [ev] = decodeText(frames);
    expect(JSON.parse(ev?.data ?? "")).toEqual({
      error: { code: 503, message: "upstream went away", status: "UNAVAILABLE" },
    });
    expect(geminiFormat.inspect(ev as SseEvent)).toMatchObject({ signal: "error" });
  });

  it.each([
    ["rate_limited", 429, "RESOURCE_EXHAUSTED"],
    ["upstream_timeout", 504, "DEADLINE_EXCEEDED"],
    ["stream_cancelled", 499, "CANCELLED"],
    ["guardrail_blocked", 400, "INVALID_ARGUMENT"],
  ] as const)("maps %s to %i %s", (code, status, name) => {
    expect(geminiErrorStatus(code)).toBe(status);
    const body = JSON.parse(
      decodeText(wire(geminiFormat.errorEvents({ code, message: "m" })))[0]?.data ?? "",
    );
    expect(body.error).toEqual({ code: status, message: "m", status: name });
  });

  it("makes the Google SDK raise an ApiError after the chunks it already received", async () => {
    const head = decodedText(readFixture("gemini/stream-basic-long-crlf.sse")).split("\r\n\r\n").slice(0, 2);
    const frames = `${head.join("\r\n\r\n")}\r\n\r\n${wire(geminiFormat.errorEvents({ code: "upstream_interrupted", message: "cut" }))}`;
    const { chunks, error } = await throughSdk(frames);
    expect(chunks.map((c) => c.text)).toEqual(["Okay", ", let'"]);
    expect(error).toBeInstanceOf(ApiError);
    expect(error instanceof ApiError ? error.status : undefined).toBe(503);
  });
});

describe("geminiFormat.blockedEvents", () => {
  it("ends with Gemini's own SAFETY finish, naming the rule, and no sentinel", () => {
    const frames = wire(geminiFormat.blockedEvents("no-secrets"));
    const evs = decodeText(frames);
    expect(evs).toHaveLength(1);
    const info = geminiFormat.inspect(evs[0] as SseEvent);
    expect(info).toEqual({ parts: [], signal: "complete", finishReason: "SAFETY" });
    expect(JSON.parse(evs[0]?.data ?? "").candidates[0].finishMessage).toContain('"no-secrets"');
  });

  it("reads as a content filter to the Google SDK and to the OpenAI translation", async () => {
    const frames = `data: {"candidates":[{"content":{"parts":[{"text":"Hello"}],"role":"model"}}]}\r\n\r\n${wire(geminiFormat.blockedEvents("pii"))}`;
    const { chunks, error } = await throughSdk(frames);
    expect(error).toBeUndefined();
    const last = chunks[chunks.length - 1];
    // The SDK's Developer-API converter keeps finishReason but drops finishMessage; the raw frame names the rule.
    expect(last?.candidates?.[0]?.finishReason).toBe("SAFETY");
    expect(chunks.map((c) => c.text ?? "").join("")).toBe("Hello");
    const got = collect(translate(new GeminiStreamTranslator(identity(false)), decodeText(frames)));
    expect(got.content).toBe("Hello");
    expect(got.finishReasons).toEqual(["content_filter"]);
    expect(got.last).toEqual({ kind: "done" });
  });
});
