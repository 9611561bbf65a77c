import { describe, expect, it } from "vitest";
import { AnthropicStreamTranslator, anthropicTranslator } from "../../../../src/upstream/anthropic/index.ts";
import type { TranslateStep } from "../../../../src/upstream/translator.ts";
import { collect, decodeText, identity } from "./helpers.ts";

/** The real shape of Anthropic's mid-stream overload error, as quoted by SDK test suites. */
const OVERLOADED =
  'event: error\ndata: {"type":"error","error":{"details":null,"type":"overloaded_error","message":"Overloaded"},"request_id":"req_1"}\n\n';

function sse(event: string, payload: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(payload)}\n\n`;
}

const START = sse("message_start", {
  type: "message_start",
  message: { id: "msg_1", role: "assistant", content: [], usage: { input_tokens: 10, output_tokens: 1 } },
});
const TEXT_START = sse("content_block_start", {
  type: "content_block_start",
  index: 0,
  content_block: { type: "text", text: "" },
});
const text = (t: string): string =>
  sse("content_block_delta", {
    type: "content_block_delta",
    index: 0,
    delta: { type: "text_delta", text: t },
  });
const stopWith = (reason: string): string =>
  sse("message_delta", {
    type: "message_delta",
    delta: { stop_reason: reason },
    usage: { output_tokens: 7 },
  });
const STOP = sse("message_stop", { type: "message_stop" });

function run(text: string, includeUsage = false): TranslateStep[] {
  const t = anthropicTranslator.createStream(identity(includeUsage));
  const steps: TranslateStep[] = [];
  for (const ev of decodeText(text)) steps.push(...t.push(ev));
  steps.push(...t.end(true));
  return steps;
}

describe("AnthropicStreamTranslator", () => {
  it("turns a mid-stream overloaded error event into an error step keeping the message, with no done", () => {
    const steps = run(
      START + TEXT_START + text("Hel") + OVERLOADED + text("lo") + stopWith("end_turn") + STOP,
    );
    const got = collect(steps);
    expect(got.content).toBe("Hel");
    expect(got.doneCount).toBe(0);
    expect(got.finishReasons).toEqual([]);
    expect(got.errors).toEqual([{ kind: "error", error: { code: "upstream_error", message: "Overloaded" } }]);
    expect(got.last).toEqual(got.errors[0]);
  });

  it("returns nothing for pushes and end after the stream failed", () => {
    const t = new AnthropicStreamTranslator(identity(false));
    const [err] = decodeText(OVERLOADED);
    const [more] = decodeText(text("x"));
    if (err === undefined || more === undefined) throw new Error("decode failed");
    expect(t.push(err)).toHaveLength(1);
    expect(t.push(more)).toEqual([]);
    expect(t.end(true)).toEqual([]);
  });

  it("reports a failed read before message_stop as upstream_interrupted", () => {
    const t = new AnthropicStreamTranslator(identity(false));
    for (const ev of decodeText(START + TEXT_START + text("Hi"))) t.push(ev);
    expect(t.end(false)).toEqual([
      {
        kind: "error",
        error: {
          code: "upstream_interrupted",
          message: "reading the upstream stream failed before message_stop",
        },
      },
    ]);
  });

  it("returns nothing from end once message_stop produced done", () => {
    const t = new AnthropicStreamTranslator(identity(false));
    const steps = decodeText(START + STOP).flatMap((ev) => t.push(ev));
    expect(steps[steps.length - 1]).toEqual({ kind: "done" });
    expect(t.end(true)).toEqual([]);
  });

  it.each([
    ["end_turn", "stop"],
    ["stop_sequence", "stop"],
    ["max_tokens", "length"],
    ["tool_use", "tool_calls"],
    ["refusal", "content_filter"],
    ["pause_turn", "stop"],
    ["model_context_window_exceeded", "length"],
  ])("maps stop_reason %s to finish_reason %s on message_delta", (reason, finish) => {
    const t = new AnthropicStreamTranslator(identity(false));
    const pre = decodeText(START + TEXT_START + text("a")).flatMap((ev) => t.push(ev));
    expect(collect(pre).finishReasons).toEqual([]);
    const atDelta = decodeText(stopWith(reason)).flatMap((ev) => t.push(ev));
    expect(collect(atDelta).finishReasons).toEqual([finish]);
    expect(atDelta.some((s) => s.kind === "done")).toBe(false);
  });

  it("drops ping and signature_delta, and maps thinking_delta to reasoning_content", () => {
    const steps = run(
      START +
        sse("content_block_start", {
          type: "content_block_start",
          index: 0,
          content_block: { type: "thinking", thinking: "" },
        }) +
        'event: ping\ndata: {"type": "ping"}\n\n' +
        sse("content_block_delta", {
          type: "content_block_delta",
          index: 0,
          delta: { type: "thinking_delta", thinking: "hmm" },
        }) +
        sse("content_block_delta", {
          type: "content_block_delta",
          index: 0,
          delta: { type: "signature_delta", signature: "EvMC" },
        }) +
        stopWith("end_turn") +
        STOP,
    );
    const chunks = steps.flatMap((s) => (s.kind === "chunk" ? [s.chunk] : []));
    // role chunk, one reasoning chunk, finish chunk: nothing for ping or the signature.
    expect(chunks).toHaveLength(3);
    expect(chunks[1]?.choices[0]?.delta).toEqual({ reasoning_content: "hmm" });
    expect(JSON.stringify(steps)).not.toContain("EvMC");
  });

  it("numbers two tool_use blocks 0 and 1 and routes each input_json_delta to its own call", () => {
    const toolStart = (index: number, id: string, name: string): string =>
      sse("content_block_start", {
        type: "content_block_start",
        index,
        content_block: { type: "tool_use", id, name, input: {} },
      });
    const input = (index: number, partial: string): string =>
      sse("content_block_delta", {
        type: "content_block_delta",
        index,
        delta: { type: "input_json_delta", partial_json: partial },
      });
    const got = collect(
      run(
        START +
          TEXT_START +
          text("ok") +
          toolStart(1, "toolu_a", "a") +
          toolStart(2, "toolu_b", "b") +
          input(2, '{"y":') +
          input(1, '{"x":1}') +
          input(2, "2}") +
          stopWith("tool_use") +
          STOP,
      ),
    );
    expect(got.toolCalls).toEqual([
      { id: "toolu_a", name: "a", arguments: '{"x":1}' },
      { id: "toolu_b", name: "b", arguments: '{"y":2}' },
    ]);
    expect(got.finishReasons).toEqual(["tool_calls"]);
  });

  it("skips and counts a terminated event whose JSON is malformed (a rewritten body), and goes on", () => {
    const t = anthropicTranslator.createStream(identity(false));
    const steps: TranslateStep[] = [];
    const body = `${START}${TEXT_START}event: content_block_delta\ndata: {"type":"content_block_delta",\n\n${text("ok")}${STOP}`;
    for (const ev of decodeText(body)) steps.push(...t.push(ev));
    steps.push(...t.end(true));
    const got = collect(steps);
    expect(t.malformed).toBe(1);
    expect(got.errors).toEqual([]);
    expect(got.content).toBe("ok");
    expect(got.last).toEqual({ kind: "done" });
  });

  it("treats an unterminated but complete final message_stop as a normal end", () => {
    const got = collect(run(START + TEXT_START + text("x") + stopWith("end_turn") + STOP.trimEnd()));
    expect(got.last).toEqual({ kind: "done" });
    expect(got.errors).toEqual([]);
  });

  it("emits a stop finish chunk at message_stop when no message_delta carried a stop reason", () => {
    const got = collect(run(START + TEXT_START + text("x") + STOP));
    expect(got.finishReasons).toEqual(["stop"]);
    expect(got.last).toEqual({ kind: "done" });
  });

  it("counts cached input tokens in prompt_tokens, as OpenAI does", () => {
    const t = new AnthropicStreamTranslator(identity(true));
    const start = sse("message_start", {
      type: "message_start",
      message: {
        usage: {
          input_tokens: 5,
          cache_creation_input_tokens: 100,
          cache_read_input_tokens: 1000,
          output_tokens: 1,
        },
      },
    });
    const steps = decodeText(start + stopWith("end_turn") + STOP).flatMap((ev) => t.push(ev));
    expect(collect(steps).usageChunks).toEqual([
      { prompt_tokens: 1105, completion_tokens: 7, total_tokens: 1112 },
    ]);
  });

  it("ignores events without an event name, as the Anthropic SDK does", () => {
    const got = collect(
      run(
        `${START}${TEXT_START}data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"ghost"}}\n\n${STOP}`,
      ),
    );
    expect(got.content).toBe("");
    expect(got.last).toEqual({ kind: "done" });
  });
});
