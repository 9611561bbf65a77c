import { describe, expect, it } from "vitest";
import type { SseEvent } from "../../../../src/sse/types.ts";
import { GeminiStreamTranslator } from "../../../../src/upstream/gemini/index.ts";
import { decodeAll, oneByteChunks, randomSplits, readFixture } from "../../../support/fixtures.ts";
import { collect, expectedSummary, GEMINI_FIXTURES, identity, translate } from "./helpers.ts";

function run(events: readonly SseEvent[], includeUsage: boolean, cleanEof = true) {
  const t = new GeminiStreamTranslator(identity(includeUsage));
  const steps = translate(t, events, cleanEof);
  return { steps, got: collect(steps), usage: t.usage };
}

describe.each(GEMINI_FIXTURES)("Gemini stream %s → OpenAI chunks", (name) => {
  const bytes = readFixture(name);
  const expected = expectedSummary(name);

  it("reproduces the text, reasoning, tool calls and usage the upstream sent", async () => {
    const { got, usage } = run(await decodeAll([bytes]), true);
    expect(got.content).toBe(expected.content);
    expect(got.reasoning).toBe(expected.reasoning);
    expect(got.toolCalls.map(({ name: n, arguments: a }) => ({ name: n, arguments: a }))).toEqual(
      expected.toolCalls,
    );
    expect(usage).toEqual(expected.usage);
    // Gemini's own total includes thinking tokens: OpenAI's total must agree with it.
    if (expected.upstreamTotal !== undefined) expect(usage?.total_tokens).toBe(expected.upstreamTotal);
  });

  it("ends with one finish reason, the usage chunk and done, or with the upstream's error", async () => {
    const { got, steps } = run(await decodeAll([bytes]), true);
    if (expected.bareError !== undefined) {
      // The finishReason before the bare error must not reach the client as a clean finish.
      expect(got.finishReasons).toEqual([]);
      expect(got.doneCount).toBe(0);
      expect(got.errors).toHaveLength(1);
      expect(got.errors[0]?.code).toBe("upstream_error");
      expect(got.errors[0]?.message).toContain(expected.bareError.message);
      expect(got.errors[0]?.message).toContain(expected.bareError.status);
      expect(got.last?.kind).toBe("error");
      return;
    }
    expect(got.finishReasons).toEqual([expected.finishReason]);
    expect(got.errors).toEqual([]);
    expect(got.doneCount).toBe(1);
    expect(got.last).toEqual({ kind: "done" });
    if (expected.usage !== undefined) {
      expect(got.usageChunks).toEqual([expected.usage]);
      const beforeDone = steps[steps.length - 2];
      expect(beforeDone?.kind === "chunk" && beforeDone.chunk.choices.length === 0).toBe(true);
    } else {
      expect(got.usageChunks).toEqual([]);
    }
  });

  it("sends the role first, once, and stamps every chunk with the stream identity", async () => {
    const { got, steps } = run(await decodeAll([bytes]), false);
    expect(got.firstChunkHasRole).toBe(true);
    expect(got.roles).toBe(1);
    for (const step of steps) {
      if (step.kind !== "chunk") continue;
      expect(step.chunk).toMatchObject({
        id: "chatcmpl-test",
        object: "chat.completion.chunk",
        created: 1_700_000_000,
        model: "gemini/gemini-test",
      });
    }
  });

  it("sends no usage chunk without include_usage but still tracks exact usage", async () => {
    const { got, usage, steps } = run(await decodeAll([bytes]), false);
    expect(got.usageChunks).toEqual([]);
    expect(steps.some((s) => s.kind === "chunk" && "usage" in s.chunk)).toBe(false);
    expect(usage).toEqual(expected.usage);
  });

  it("gives the same result whatever the byte boundaries (random and one byte at a time)", async () => {
    const whole = run(await decodeAll([bytes]), true).steps;
    for (const seed of [1, 7, 42, 2024, 31337]) {
      expect(run(await decodeAll(randomSplits(bytes, seed, 60)), true).steps).toEqual(whole);
    }
    expect(run(await decodeAll(oneByteChunks(bytes)), true).steps).toEqual(whole);
  });

  it("ends with upstream_interrupted and no done when the read fails", async () => {
    const { got } = run(await decodeAll([bytes]), true, false);
    expect(got.doneCount).toBe(0);
    expect(got.finishReasons).toEqual([]);
    expect(got.errors).toHaveLength(1);
    if (expected.bareError === undefined) expect(got.errors[0]?.code).toBe("upstream_interrupted");
  });
});

describe("Gemini stream fixtures, specifics", () => {
  it("ends with upstream_interrupted when the chunk carrying the finish reason never arrives", async () => {
    const events = await decodeAll([readFixture("gemini/stream-basic-long-crlf.sse")]);
    const cut = events.slice(0, -1);
    expect(cut.some((ev) => ev.data.includes("finishReason"))).toBe(false);
    const { got } = run(cut, true);
    expect(got.doneCount).toBe(0);
    expect(got.finishReasons).toEqual([]);
    expect(got.usageChunks).toEqual([]);
    expect(got.last).toEqual({
      kind: "error",
      error: { code: "upstream_interrupted", message: "the Gemini stream ended without a finish reason" },
    });
    expect(expectedSummary("gemini/stream-basic-long-crlf.sse").content.startsWith(got.content)).toBe(true);
  });

  it("ends with an error when the body is cut in the middle of an event", async () => {
    const bytes = readFixture("gemini/stream-basic-long-crlf.sse");
    const { got } = run(await decodeAll([bytes.subarray(0, Math.floor(bytes.length / 2))]), false);
    expect(got.doneCount).toBe(0);
    expect(got.errors).toHaveLength(1);
    expect(got.errors[0]?.code).toBe("upstream_interrupted");
  });

  it("keeps every three-byte CJK character when each byte arrives alone", async () => {
    const name = "gemini/stream-utf8-chinese.sse";
    const { got } = run(await decodeAll(oneByteChunks(readFixture(name))), false);
    expect(got.content).not.toContain("\u{fffd}");
    expect(got.content).toBe(expectedSummary(name).content);
    expect([...got.content].filter((ch) => /\p{Script=Han}/u.test(ch)).length).toBeGreaterThan(150);
  });

  it("holds the finish reason Vertex repeats on every chunk until the stream closes", async () => {
    const events = await decodeAll([readFixture("gemini/stream-utf8-chinese.sse")]);
    expect(events.filter((ev) => ev.data.includes('"finishReason": "STOP"')).length).toBe(events.length);
    const t = new GeminiStreamTranslator(identity(false));
    const duringStream = events.flatMap((ev) => t.push(ev));
    expect(collect(duringStream).finishReasons).toEqual([]);
    expect(collect(t.end(true)).finishReasons).toEqual(["stop"]);
  });

  it("turns the function call into one complete tool call and finishes with tool_calls", async () => {
    const { got, steps } = run(
      await decodeAll([readFixture("gemini/stream-thinking-function-call-signature.sse")]),
      false,
    );
    expect(got.toolCalls).toEqual([{ id: "call_test_0", name: "now", arguments: "{}" }]);
    expect(got.finishReasons).toEqual(["tool_calls"]);
    const callChunks = steps.filter((s) => s.kind === "chunk" && s.chunk.choices[0]?.delta.tool_calls);
    expect(callChunks).toHaveLength(1);
    // Thought summaries come before the call, as reasoning, never as content.
    expect(got.content).toBe("");
    expect(got.reasoning.startsWith("**Calculating the Days**")).toBe(true);
  });

  it("answers a blocked prompt (an unterminated final block) with an empty content_filter choice", async () => {
    const events = await decodeAll([readFixture("gemini/stream-prompt-blocked-safety.sse")]);
    expect(events.map((ev) => ev.terminated)).toEqual([false]);
    const { got } = run(events, false);
    expect(got.content).toBe("");
    expect(got.finishReasons).toEqual(["content_filter"]);
    expect(got.last).toEqual({ kind: "done" });
  });
});
