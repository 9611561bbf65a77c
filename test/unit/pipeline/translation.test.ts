import { describe, expect, it } from "vitest";
import { StreamState } from "../../../src/pipeline/stream-state.ts";
import { type TranslatedEvent, Translation } from "../../../src/pipeline/translation.ts";
import { ERROR_CODE } from "../../../src/protocol.ts";
import { SseDecoder } from "../../../src/sse/decoder.ts";
import type { SseEvent } from "../../../src/sse/types.ts";
import { anthropicTranslator } from "../../../src/upstream/anthropic/chat-translator.ts";
import { anthropicFormat } from "../../../src/upstream/anthropic/format.ts";
import { geminiTranslator } from "../../../src/upstream/gemini/translator.ts";
import { openAiChatFormat } from "../../../src/upstream/openai-chat/format.ts";
import { openAiTranslator } from "../../../src/upstream/openai-chat/translator.ts";
import type { ChatTranslator, StreamTranslator, TranslateStep } from "../../../src/upstream/translator.ts";
import { workersAiTranslator } from "../../../src/upstream/workers-ai/translator.ts";
import { readFixture, splitAt } from "../../support/fixtures.ts";

const encoder = new TextEncoder();

/** Decodes byte pieces as the source does: streaming UTF-8 decode, SSE decode, then the open last block. */
function decode(pieces: readonly Uint8Array[]): SseEvent[] {
  const text = new TextDecoder("utf-8");
  const sse = new SseDecoder();
  const out: SseEvent[] = [];
  for (const piece of pieces) out.push(...sse.push(text.decode(piece, { stream: true })));
  out.push(...sse.push(text.decode()), ...sse.end());
  return out;
}

/** The one event `text` holds. */
function event(text: string): SseEvent {
  const [ev] = decode([encoder.encode(text)]);
  if (ev === undefined) throw new Error("no event");
  return ev;
}

/** Cut positions every `step` bytes: events and multi-byte characters split all over. */
function every(bytes: Uint8Array, step: number): number[] {
  return Array.from({ length: Math.floor(bytes.length / step) }, (_, i) => (i + 1) * step);
}

/** The fixture's events, or only those before the text `cutAt` finds (a stream that ended there). */
function upstream(name: string, cutAt?: (text: string) => number, pieces = 1): SseEvent[] {
  const bytes = readFixture(name);
  let body = bytes;
  if (cutAt !== undefined) {
    const text = new TextDecoder().decode(bytes);
    const at = cutAt(text);
    if (at <= 0) throw new Error(`${name}: no cut position`);
    body = bytes.subarray(0, encoder.encode(text.slice(0, at)).length);
  }
  return decode(pieces === 1 ? [body] : splitAt(body, every(body, pieces)));
}

interface Run {
  /** What push() gave for every upstream event, in order. */
  readonly pushed: SseEvent[];
  /** What end() gave. */
  readonly ending: SseEvent[];
  /** Both, with what the translation already knew of each event. */
  readonly translated: TranslatedEvent[];
  readonly state: StreamState;
  /** `state.outputTokens` just before end(). */
  readonly tokensBeforeEnd: number | undefined;
}

/** One stream through a Translation to OpenAI chunks, ended as the source ends it. */
function translate(
  translator: ChatTranslator,
  events: readonly SseEvent[],
  options: { readFailed?: boolean; includeUsage?: boolean } = {},
): Run {
  const identity = {
    id: "chatcmpl-test",
    created: 1_700_000_000,
    model: "p/model",
    includeUsage: options.includeUsage ?? false,
  };
  const translation = new Translation(translator.createStream(identity), openAiChatFormat);
  const state = new StreamState();
  state.readFailed = options.readFailed ?? false;
  const pushed = events.flatMap((ev) => translation.push(ev));
  const tokensBeforeEnd = state.outputTokens;
  const ending = translation.end(state);
  return {
    pushed: pushed.map((t) => t.ev),
    ending: ending.map((t) => t.ev),
    translated: [...pushed, ...ending],
    state,
    tokensBeforeEnd,
  };
}

const isDone = (ev: SseEvent) => ev.data === "[DONE]";

/** The bytes of `events`, as the client receives them. */
const rawOf = (events: readonly SseEvent[]) => events.map((ev) => ev.raw).join("");

/**
 * OpenAI's usage chunk: no choices, a usage object. (With include_usage every other chunk carries
 * `usage: null`, so the key alone says nothing.)
 */
function isUsageChunk(ev: SseEvent): boolean {
  if (isDone(ev)) return false;
  const chunk = JSON.parse(ev.data) as { choices?: unknown; usage?: unknown };
  return (
    Array.isArray(chunk.choices) &&
    chunk.choices.length === 0 &&
    typeof chunk.usage === "object" &&
    chunk.usage !== null
  );
}

/** The in-band error an OpenAI client gets for `code` and `message`. */
const openAiError = (code: string, message: string) =>
  `data: ${JSON.stringify({ error: { message, type: "server_error", param: null, code } })}\n\n`;

/** One family of translated upstream, with one of its recordings and how it reads when cut short. */
interface Family {
  readonly family: string;
  readonly translator: ChatTranslator;
  readonly fixture: string;
  /** Where the recording is cut for a stream that ended before its normal end. */
  readonly cutAt: (text: string) => number;
  readonly cleanEofMessage: string;
  readonly failedReadMessage: string;
  /** Output tokens in the recording's usage. */
  readonly outputTokens: number;
}

const FAMILIES: readonly Family[] = [
  {
    family: "Anthropic",
    translator: anthropicTranslator,
    fixture: "anthropic/messages-text-ping-minimal.sse",
    cutAt: (text) => text.indexOf("event: message_stop"),
    cleanEofMessage: "the upstream stream ended before message_stop",
    failedReadMessage: "reading the upstream stream failed before message_stop",
    outputTokens: 5,
  },
  {
    family: "Gemini",
    translator: geminiTranslator,
    fixture: "gemini/stream-basic-long-crlf.sse",
    // Gemini has no end sentinel: only its last chunk carries the finish reason.
    cutAt: (text) => text.lastIndexOf("data: "),
    cleanEofMessage: "the Gemini stream ended without a finish reason",
    failedReadMessage: "the Gemini stream failed before the response was complete",
    outputTokens: 1996,
  },
  {
    family: "Workers AI",
    translator: workersAiTranslator,
    fixture: "cloudflare/workers-ai-llama-text.sse",
    cutAt: (text) => text.indexOf("data: [DONE]"),
    cleanEofMessage: "the Workers AI stream ended without [DONE]",
    failedReadMessage: "the Workers AI stream failed before the response was complete",
    outputTokens: 48,
  },
];

describe.each(FAMILIES)("Translation of a $family stream to OpenAI chunks", (f) => {
  it("writes [DONE] once, as the very last event, when the upstream really finished", () => {
    const run = translate(f.translator, upstream(f.fixture));
    const out = [...run.pushed, ...run.ending];
    expect(out.filter(isDone)).toHaveLength(1);
    expect(out.at(-1)?.raw).toBe("data: [DONE]\n\n");
    for (const ev of out.slice(0, -1)) {
      // Every other event is one whole chunk, written as one data line and its blank line.
      expect(ev.raw).toBe(`data: ${ev.data}\n\n`);
      expect(ev.terminated).toBe(true);
      expect(JSON.parse(ev.data)).toMatchObject({ id: "chatcmpl-test", object: "chat.completion.chunk" });
    }
  });

  it("writes no [DONE] for a stream cut before its end, and ends with OpenAI's in-band error", () => {
    const run = translate(f.translator, upstream(f.fixture, f.cutAt));
    const out = [...run.pushed, ...run.ending];
    expect(run.pushed.length).toBeGreaterThan(0);
    expect(out.filter(isDone)).toEqual([]);
    expect(out.at(-1)?.raw).toBe(openAiError(ERROR_CODE.upstreamInterrupted, f.cleanEofMessage));
  });

  it("says the read failed when it did, with no [DONE]", () => {
    const run = translate(f.translator, upstream(f.fixture, f.cutAt), { readFailed: true });
    const out = [...run.pushed, ...run.ending];
    expect(out.filter(isDone)).toEqual([]);
    expect(out.at(-1)?.raw).toBe(openAiError(ERROR_CODE.upstreamInterrupted, f.failedReadMessage));
  });

  it("records the upstream's exact usage into the state at the end, whether or not the client asked for it", () => {
    for (const includeUsage of [false, true]) {
      const run = translate(f.translator, upstream(f.fixture), { includeUsage });
      expect(run.tokensBeforeEnd).toBeUndefined();
      expect(run.state.outputTokens).toBe(f.outputTokens);
      const usageChunks = [...run.pushed, ...run.ending].filter((ev) => isUsageChunk(ev));
      expect(usageChunks).toHaveLength(includeUsage ? 1 : 0);
    }
  });

  it("hands on with each chunk it builds exactly what the inspector would read from it", () => {
    const run = translate(f.translator, upstream(f.fixture), { includeUsage: true });
    const chunks = run.translated.filter((t) => !isDone(t.ev));
    expect(chunks.length).toBeGreaterThan(0);
    for (const { ev, info } of chunks) {
      // Known from the chunk object itself, so the JSON just written is never parsed again.
      expect(info, ev.data).toBeDefined();
      expect(info).toEqual(openAiChatFormat.inspect(ev));
    }
  });

  it("gives the same client events whatever the upstream's byte boundaries", () => {
    const whole = translate(f.translator, upstream(f.fixture));
    for (const step of [1, 7, 61]) {
      const split = translate(f.translator, upstream(f.fixture, undefined, step));
      expect([...split.pushed, ...split.ending].map((ev) => ev.raw)).toEqual(
        [...whole.pushed, ...whole.ending].map((ev) => ev.raw),
      );
    }
  });
});

describe("Translation of errors", () => {
  it("turns a Gemini error written mid-stream into OpenAI's in-band error, and no [DONE] follows", () => {
    const run = translate(geminiTranslator, upstream("gemini/stream-error-mid-stream.sse"));
    const out = [...run.pushed, ...run.ending];
    expect(out.filter(isDone)).toEqual([]);
    expect(run.ending).toEqual([]);
    expect(out.at(-1)?.raw).toBe(
      openAiError(ERROR_CODE.upstreamError, "Gemini error CANCELLED: The operation was cancelled."),
    );
  });

  /** A translator that returns the given steps, and remembers what end() was told. */
  function scripted(pushSteps: TranslateStep[], endSteps: TranslateStep[]) {
    const seen: { cleanEof: boolean | undefined } = { cleanEof: undefined };
    const translator: StreamTranslator = {
      push: () => pushSteps,
      end: (cleanEof) => {
        seen.cleanEof = cleanEof;
        return endSteps;
      },
      usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 },
      malformed: 0,
    };
    return { translator, seen };
  }

  it("writes each step as one client event: a chunk as its JSON, an event as it came, done as [DONE]", () => {
    const passed = event('event: x\ndata: {"kept":"as is"}\r\n\r\n');
    const chunk = {
      id: "c",
      object: "chat.completion.chunk" as const,
      created: 1,
      model: "m",
      choices: [{ index: 0, delta: { content: "hé" }, finish_reason: null }],
    };
    const { translator } = scripted(
      [{ kind: "chunk", chunk }, { kind: "event", ev: passed }, { kind: "done" }],
      [],
    );
    const out = new Translation(translator, openAiChatFormat).push(passed).map((t) => t.ev);
    expect(out).toHaveLength(3);
    expect(out[0]?.raw).toBe(`data: ${JSON.stringify(chunk)}\n\n`);
    expect(out[0]?.data).toBe(JSON.stringify(chunk));
    expect(out[1]).toBe(passed);
    expect(out[2]?.raw).toBe("data: [DONE]\n\n");
  });

  it("writes an error step in the client format's own error shape, at the end too", () => {
    const error = { code: ERROR_CODE.upstreamInterrupted, message: "cut" };
    const { translator, seen } = scripted([{ kind: "error", error }], [{ kind: "error", error }]);
    const translation = new Translation(translator, anthropicFormat);
    const state = new StreamState();
    state.readFailed = true;
    expect(rawOf(translation.push(event("data: x\n\n")).map((t) => t.ev))).toBe(
      rawOf(anthropicFormat.errorEvents(error)),
    );
    expect(rawOf(translation.end(state).map((t) => t.ev))).toBe(rawOf(anthropicFormat.errorEvents(error)));
    // end() tells the translator whether the body ended cleanly: here it did not.
    expect(seen.cleanEof).toBe(false);
    expect(state.outputTokens).toBe(4);
  });
});

describe("Translation of an OpenAI-compatible stream (passed through)", () => {
  const name = "openai/chat-text-include-usage.sse";

  it("forwards every event as the very object it came as, [DONE] included, and adds nothing at the end", () => {
    const events = upstream(name);
    const run = translate(openAiTranslator, events, { includeUsage: true });
    expect(run.pushed).toHaveLength(events.length);
    for (const [i, ev] of run.pushed.entries()) expect(ev).toBe(events[i]);
    // Whether it completed is judged downstream by the OpenAI format, as on native routes.
    expect(run.ending).toEqual([]);
  });

  it("drops the usage chunk the client did not ask for, but records the usage at the end", () => {
    const events = upstream(name);
    const run = translate(openAiTranslator, events, { includeUsage: false });
    expect(run.pushed).toHaveLength(events.length - 1);
    expect(run.pushed.some(isUsageChunk)).toBe(false);
    expect(run.tokensBeforeEnd).toBeUndefined();
    expect(run.state.outputTokens).toBe(30);
  });
});
