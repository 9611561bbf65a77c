import { describe, expect, it } from "vitest";
import { Inspector } from "../../../src/pipeline/inspector.ts";
import type { StreamItem } from "../../../src/pipeline/item.ts";
import { StreamState } from "../../../src/pipeline/stream-state.ts";
import { ERROR_CODE } from "../../../src/protocol.ts";
import { SseDecoder } from "../../../src/sse/decoder.ts";
import type { SseEvent } from "../../../src/sse/types.ts";
import { anthropicFormat } from "../../../src/upstream/anthropic/format.ts";
import type { InBandError, WireFormat } from "../../../src/upstream/format.ts";
import { geminiFormat } from "../../../src/upstream/gemini/format.ts";
import { openAiChatFormat } from "../../../src/upstream/openai-chat/format.ts";
import { openAiResponsesFormat } from "../../../src/upstream/openai-responses/format.ts";
import { workersAiFormat } from "../../../src/upstream/workers-ai/format.ts";
import { readFixture, splitAt } from "../../support/fixtures.ts";

/** Decodes byte pieces as the source does: streaming UTF-8 decode, SSE decode, then the open last block. */
function decode(pieces: readonly Uint8Array[]): SseEvent[] {
  const text = new TextDecoder("utf-8");
  const sse = new SseDecoder();
  const out: SseEvent[] = [];
  for (const piece of pieces) out.push(...sse.push(text.decode(piece, { stream: true })));
  out.push(...sse.push(text.decode()), ...sse.end());
  return out;
}

/** The events of a whole fixture. */
function fixtureEvents(name: string): SseEvent[] {
  return decode([readFixture(name)]);
}

/** The fixture's bytes up to (not including) the first occurrence of `marker`: a stream cut right there. */
function cutBefore(name: string, marker: string): SseEvent[] {
  const bytes = readFixture(name);
  const text = new TextDecoder().decode(bytes);
  const at = text.indexOf(marker);
  if (at <= 0) throw new Error(`${name} has no "${marker}"`);
  const [head] = splitAt(bytes, [new TextEncoder().encode(text.slice(0, at)).length]);
  const events = decode(head === undefined ? [] : [head]);
  // Cut between two events: every event before the marker arrived whole.
  if (events.some((ev) => !ev.terminated)) throw new Error(`${name} cut inside an event`);
  return events;
}

/** Runs `events` through a fresh inspector and state, as the source does, without ending it. */
function inspect(format: WireFormat, events: readonly SseEvent[]) {
  const state = new StreamState();
  const inspector = new Inspector(format, state);
  const items: StreamItem[] = [];
  for (const ev of events) items.push(...inspector.item(ev));
  return { state, inspector, items };
}

/** The bytes of the in-band error `format` writes for `error`: what must follow a cut stream. */
function framed(format: WireFormat, error: InBandError): string {
  return format
    .errorEvents(error)
    .map((ev) => ev.raw)
    .join("");
}

/** A stream that ended normally, its format, what cutting it short means, and the usage it reports. */
interface Finished {
  readonly name: string;
  readonly format: WireFormat;
  /** The end marker: the stream cut right before it ended cleanly but incomplete. */
  readonly marker: string;
  /**
   * Where a cut leaves the answer unfinished, when that is earlier than the end marker: a Chat
   * Completions stream whose choices all finished is whole without `[DONE]`.
   */
  readonly unfinished?: string;
  /** Output tokens in the fixture's usage. */
  readonly outputTokens: number;
}

const FINISHED: readonly Finished[] = [
  {
    name: "openai/chat-text-include-usage.sse",
    format: openAiChatFormat,
    marker: "data: [DONE]",
    unfinished:
      'data: {"id":"chatcmpl-ABfw031mOJeYCSHe4yI2ZjOA6kMJL","object":"chat.completion.chunk","created":1727346168,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_5050236cbd","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]}',
    outputTokens: 30,
  },
  {
    name: "anthropic/messages-text-ping-minimal.sse",
    format: anthropicFormat,
    marker: "event: message_stop",
    outputTokens: 5,
  },
  {
    name: "cloudflare/workers-ai-llama-text.sse",
    format: workersAiFormat,
    marker: "data: [DONE]",
    outputTokens: 48,
  },
  {
    name: "openai/responses-text-and-function-call.sse",
    format: openAiResponsesFormat,
    marker: "event: response.completed",
    outputTokens: 69,
  },
];

const CLEAN_EOF = "the upstream stream ended before the response was complete";
const FAILED_READ = "the upstream connection failed before the response was complete";

describe("Inspector: what it records per signal", () => {
  it.each(FINISHED)(
    "passes $name on unchanged and records its normal end",
    ({ name, format, outputTokens }) => {
      const events = fixtureEvents(name);
      const { state, inspector, items } = inspect(format, events);
      // One item per event, the very same event objects: nothing is copied or re-encoded on the way.
      expect(items).toHaveLength(events.length);
      for (const [i, item] of items.entries()) expect(item.ev).toBe(events[i]);
      expect(state.completeSeen).toBe(true);
      expect(state.endSeen).toBe(true);
      expect(state.answerEnded).toBe(true);
      expect(state.upstreamError).toBeUndefined();
      expect(state.outputTokens).toBe(outputTokens);
      expect(inspector.end()).toEqual([]);
      expect(state.interruption).toBeUndefined();
      expect(state.endDetail()).toBeUndefined();
      expect(state.upstreamOutcome()).toBe("complete");
    },
  );

  it("records a Gemini finish reason as complete but not as the end of the stream (Gemini has no sentinel)", () => {
    const { state, inspector } = inspect(geminiFormat, fixtureEvents("gemini/stream-utf8-chinese.sse"));
    expect(state.completeSeen).toBe(true);
    // Vertex repeats the finish reason on every chunk: reading stops only when the body ends.
    expect(state.endSeen).toBe(false);
    expect(state.answerEnded).toBe(false);
    expect(inspector.end()).toEqual([]);
    expect(state.upstreamOutcome()).toBe("complete");
  });

  it("records an error the client's SDK raises itself (Groq `event: error`) and adds nothing to it", () => {
    const events = fixtureEvents("groq/tool-use-failed-error-event.sse");
    const { state, inspector, items } = inspect(openAiChatFormat, events);
    expect(items).toHaveLength(events.length);
    expect(items.at(-1)?.info.signal).toBe("error");
    expect(state.upstreamError).toMatch(/^Tool call validation failed: /);
    expect(state.completeSeen).toBe(false);
    // The client already saw the error in its own format: no second error at the end.
    expect(inspector.end()).toEqual([]);
    expect(state.interruption).toBeUndefined();
    expect(state.endDetail()).toBe(`upstream_error: ${state.upstreamError}`);
    expect(state.upstreamOutcome()).toBe("interrupted");
  });

  it("keeps the first of several upstream errors", () => {
    const events = decode([
      new TextEncoder().encode(
        'event: error\ndata: {"error":{"message":"first"}}\n\nevent: error\ndata: {"error":{"message":"second"}}\n\n',
      ),
    ]);
    const { state } = inspect(openAiChatFormat, events);
    expect(state.upstreamError).toBe("first");
  });

  it("re-frames a stray error the client cannot see (a bare JSON body in a Gemini stream) as an in-band error", () => {
    const events = fixtureEvents("gemini/stream-error-mid-stream.sse");
    const { state, inspector, items } = inspect(geminiFormat, events);
    const stray = events.at(-1);
    expect(stray?.strayLines.length).toBeGreaterThan(0);
    // Every upstream event, then one event the gateway wrote right after the stray one.
    expect(items).toHaveLength(events.length + 1);
    // The recording ends the bare body without a blank line: it passes with its framing completed.
    expect(items[events.length - 1]?.ev.raw).toBe(`${stray?.raw}\n`);
    expect(items[events.length - 1]?.ev.strayLines).toEqual(stray?.strayLines);
    expect(items[events.length - 1]?.info.signal).toBe("stray-error");
    // The fixture's error: status CANCELLED, message "The operation was cancelled."
    const message = "CANCELLED: The operation was cancelled.";
    const reframed = items.at(-1);
    expect(reframed?.ev.raw).toBe(framed(geminiFormat, { code: ERROR_CODE.upstreamError, message }));
    expect(reframed?.ev.terminated).toBe(true);
    expect(reframed?.info).toEqual({ parts: [], signal: "error" });
    expect(state.upstreamError).toBe(message);
    // That error is the stream's ending: end() adds no second one.
    expect(inspector.end()).toEqual([]);
    expect(state.endDetail()).toBe(`upstream_error: ${message}`);
  });

  const FINAL_ERRORS: readonly {
    what: string;
    format: WireFormat;
    events: () => SseEvent[];
    message: string;
  }[] = [
    {
      what: "an Anthropic `event: error`",
      format: anthropicFormat,
      events: () =>
        decode([
          new TextEncoder().encode(
            'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n',
          ),
        ]),
      message: "Overloaded",
    },
    {
      what: "a Responses `response.failed` on its own",
      format: openAiResponsesFormat,
      // The recorded stream without its separate `event: error`: only the terminal event reports it.
      events: () =>
        fixtureEvents("openai/responses-error-insufficient-quota.sse").filter((ev) => ev.event !== "error"),
      message:
        "You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.",
    },
  ];

  it.each(FINAL_ERRORS)(
    "records $what, an error that also ends the stream, as the upstream's error with nothing after it",
    ({ format, events, message }) => {
      const { state, inspector } = inspect(format, events());
      expect(state.endSeen).toBe(true);
      expect(state.upstreamError).toBe(message);
      expect(inspector.end()).toEqual([]);
      expect(state.endDetail()).toBe(`upstream_error: ${message}`);
    },
  );
});

describe("Inspector.end() of a stream that stopped before its end", () => {
  it.each(FINISHED)(
    "after a clean EOF without the end marker, appends $name's own in-band error",
    ({ name, format, marker, unfinished }) => {
      const { state, inspector, items } = inspect(format, cutBefore(name, unfinished ?? marker));
      expect(items.length).toBeGreaterThan(0);
      expect(state.answerEnded).toBe(false);
      const error = { code: ERROR_CODE.upstreamInterrupted, message: CLEAN_EOF };
      const ending = inspector.end();
      expect(ending.map((item) => item.ev.raw).join("")).toBe(framed(format, error));
      for (const item of ending) expect(item.info).toEqual({ parts: [], signal: "error" });
      expect(state.interruption).toEqual(error);
      expect(state.endDetail()).toBe(`upstream_interrupted: ${CLEAN_EOF}`);
      expect(state.upstreamOutcome()).toBe("interrupted");
    },
  );

  it.each(FINISHED)("after a failed read, says the connection failed ($name)", ({ name, format, marker }) => {
    // Cut right before the end marker: even an answer whose choices finished is not whole after a failed read.
    const { state, inspector } = inspect(format, cutBefore(name, marker));
    state.readFailed = true; // as the source records a read that threw
    const error = { code: ERROR_CODE.upstreamInterrupted, message: FAILED_READ };
    expect(
      inspector
        .end()
        .map((item) => item.ev.raw)
        .join(""),
    ).toBe(framed(format, error));
    expect(state.interruption).toEqual(error);
    expect(state.endDetail()).toBe(`upstream_interrupted: ${FAILED_READ}`);
    expect(state.upstreamOutcome()).toBe("interrupted");
  });

  it("treats a failed read after a Gemini finish reason as an interruption: the finish reason proves no end", () => {
    const { state, inspector } = inspect(geminiFormat, fixtureEvents("gemini/stream-utf8-chinese.sse"));
    expect(state.completeSeen).toBe(true);
    state.readFailed = true;
    expect(inspector.end()).toHaveLength(1);
    expect(state.interruption).toEqual({ code: ERROR_CODE.upstreamInterrupted, message: FAILED_READ });
    expect(state.upstreamOutcome()).toBe("interrupted");
  });

  it("adds nothing after a failed read when the upstream's error was already seen", () => {
    const { state, inspector } = inspect(
      openAiChatFormat,
      fixtureEvents("groq/tool-use-failed-error-event.sse"),
    );
    state.readFailed = true;
    expect(inspector.end()).toEqual([]);
    expect(state.interruption).toBeUndefined();
  });
});

describe("Inspector: an unterminated final event that is whole", () => {
  const CASES: readonly { name: string; format: WireFormat; drop: number }[] = [
    // Both newlines of the final blank line missing, or only the blank line itself.
    { name: "openai/chat-text-include-usage.sse", format: openAiChatFormat, drop: 2 },
    { name: "openai/chat-text-include-usage.sse", format: openAiChatFormat, drop: 1 },
    // CRLF: the completed framing keeps the upstream's own line ending.
    { name: "gemini/stream-basic-long-crlf.sse", format: geminiFormat, drop: 4 },
    { name: "gemini/stream-basic-long-crlf.sse", format: geminiFormat, drop: 2 },
  ];

  it.each(CASES)(
    "gets its blank line back, exactly as $name sent it (last $drop bytes cut)",
    ({ name, format, drop }) => {
      const bytes = readFixture(name);
      const whole = fixtureEvents(name);
      const cut = decode(splitAt(bytes, [bytes.length - drop]).slice(0, 1));
      const last = cut.at(-1);
      expect(last?.terminated).toBe(false);
      const { items } = inspect(format, cut);
      const completed = items.at(-1)?.ev;
      expect(completed?.terminated).toBe(true);
      expect(completed?.raw).toBe(whole.at(-1)?.raw);
      expect(completed?.data).toBe(last?.data);
      // Everything before it was terminated already and passes as it is.
      expect(items.slice(0, -1).map((item) => item.ev)).toEqual(cut.slice(0, -1));
    },
  );
});

describe("a Chat Completions stream that closes cleanly without [DONE]", () => {
  const chunk = (index: number, delta: object, finish: string | null) =>
    JSON.stringify({
      id: "c",
      object: "chat.completion.chunk",
      choices: [{ index, delta, finish_reason: finish }],
    });
  const events = (list: readonly string[]) =>
    decode([new TextEncoder().encode(list.map((data) => `data: ${data}\n\n`).join(""))]);

  it("is complete once every choice finished: the gateway appends the [DONE] the client waits for", () => {
    const { state, inspector } = inspect(
      openAiChatFormat,
      cutBefore("openai/chat-text-include-usage.sse", "data: [DONE]"),
    );
    const ending = inspector.end();
    expect(ending.map((item) => item.ev.raw)).toEqual(["data: [DONE]\n\n"]);
    expect(state.interruption).toBeUndefined();
    expect(state.upstreamOutcome()).toBe("complete");
    expect(state.endDetail()).toBeUndefined();
  });

  it("is interrupted while one of several choices (n > 1) has not finished", () => {
    const { state, inspector } = inspect(
      openAiChatFormat,
      events([chunk(0, { content: "a" }, null), chunk(1, { content: "b" }, null), chunk(0, {}, "stop")]),
    );
    expect(
      inspector
        .end()
        .map((item) => item.ev.raw)
        .join(""),
    ).toContain("upstream_interrupted");
    expect(state.upstreamOutcome()).toBe("interrupted");
  });

  it("is complete when both of two choices finished", () => {
    const { state, inspector } = inspect(
      openAiChatFormat,
      events([chunk(0, { content: "a" }, null), chunk(1, { content: "b" }, "length"), chunk(0, {}, "stop")]),
    );
    expect(inspector.end().map((item) => item.ev.raw)).toEqual(["data: [DONE]\n\n"]);
    expect(state.upstreamOutcome()).toBe("complete");
  });
});
