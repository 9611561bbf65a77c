import { describe, expect, it } from "vitest";
import type { SseEvent } from "../../../../src/sse/types.ts";
import { AnthropicStreamTranslator } from "../../../../src/upstream/anthropic/index.ts";
import type { TranslateStep } from "../../../../src/upstream/translator.ts";
import { decodeAll, oneByteChunks, randomSplits, readFixture } from "../../../support/fixtures.ts";
import { ANTHROPIC_FIXTURES, collect, expectedSummary, identity } from "./helpers.ts";

function translate(events: readonly SseEvent[], includeUsage: boolean, cleanEof = true) {
  const t = new AnthropicStreamTranslator(identity(includeUsage));
  const steps: TranslateStep[] = [];
  for (const ev of events) steps.push(...t.push(ev));
  steps.push(...t.end(cleanEof));
  return { steps, usage: t.usage };
}

describe.each(ANTHROPIC_FIXTURES)("Anthropic stream %s → OpenAI chunks", (name) => {
  const bytes = readFixture(name);
  const expected = expectedSummary(name);

  it("reproduces the text, reasoning, tool calls, finish reason and usage the upstream sent", async () => {
    const { steps, usage } = translate(await decodeAll([bytes]), true);
    const got = collect(steps);
    expect(got.content).toBe(expected.content);
    expect(got.reasoning).toBe(expected.reasoning);
    expect(got.toolCalls).toEqual(expected.toolCalls);
    expect(got.finishReasons).toEqual([expected.finishReason]);
    expect(got.usageChunks).toEqual([expected.usage]);
    expect(usage).toEqual(expected.usage);
    expect(got.errors).toEqual([]);
    expect(got.doneCount).toBe(1);
    expect(got.last).toEqual({ kind: "done" });
  });

  it("puts the role on the first chunk only and the usage chunk right before done", async () => {
    const { steps } = translate(await decodeAll([bytes]), true);
    const got = collect(steps);
    expect(got.firstChunkHasRole).toBe(true);
    expect(got.roles).toBe(1);
    const beforeDone = steps[steps.length - 2];
    expect(beforeDone?.kind === "chunk" && beforeDone.chunk.choices.length === 0).toBe(true);
    for (const step of steps) {
      if (step.kind !== "chunk") continue;
      expect(step.chunk).toMatchObject({
        id: "chatcmpl-test",
        object: "chat.completion.chunk",
        created: 1_700_000_000,
        model: "anthropic/claude-test",
      });
    }
  });

  it("sends no usage chunk without include_usage but still tracks exact usage", async () => {
    const { steps, usage } = translate(await decodeAll([bytes]), false);
    const got = collect(steps);
    expect(got.usageChunks).toEqual([]);
    expect(steps.some((s) => s.kind === "chunk" && "usage" in s.chunk)).toBe(false);
    expect(usage).toEqual(expected.usage);
    expect(got.last).toEqual({ kind: "done" });
  });

  it("gives the same result whatever the byte boundaries", async () => {
    const whole = collect(translate(await decodeAll([bytes]), true).steps);
    for (const seed of [1, 2, 3, 42, 1234]) {
      const split = collect(translate(await decodeAll(randomSplits(bytes, seed, 40)), true).steps);
      expect(split).toEqual(whole);
    }
    expect(collect(translate(await decodeAll(oneByteChunks(bytes)), true).steps)).toEqual(whole);
  });

  it("ends with an upstream_interrupted error and no done when cut before message_stop", async () => {
    const events = await decodeAll([bytes]);
    const cut = events.filter((ev) => ev.event !== "message_stop");
    expect(cut.length).toBe(events.length - 1);
    const got = collect(translate(cut, true).steps);
    expect(got.doneCount).toBe(0);
    expect(got.usageChunks).toEqual([]);
    expect(got.last).toEqual({
      kind: "error",
      error: { code: "upstream_interrupted", message: "the upstream stream ended before message_stop" },
    });
  });

  it("ends with an error when the body is cut mid-event", async () => {
    const half = bytes.subarray(0, Math.floor(bytes.length / 2));
    const got = collect(translate(await decodeAll([half]), true, true).steps);
    expect(got.doneCount).toBe(0);
    expect(got.errors).toHaveLength(1);
    expect(got.last?.kind === "error" && got.last.error.code).toBe("upstream_interrupted");
    expect(expected.content.startsWith(got.content)).toBe(true);
  });
});

describe("Anthropic stream specifics", () => {
  it("keeps the keycap emoji whole although it spans two text_delta events", async () => {
    const events = await decodeAll(
      oneByteChunks(readFixture("anthropic/messages-code-execution-emoji-split.sse")),
    );
    const got = collect(translate(events, false).steps);
    expect(got.content).toContain("| 1\u{fe0f}\u{20e3} | `6544 × 65464`");
    expect(got.content).toContain("✅ Final Answer");
  });

  it("does not surface server-side code execution as a client tool call", async () => {
    const events = await decodeAll([readFixture("anthropic/messages-code-execution-emoji-split.sse")]);
    const got = collect(translate(events, false).steps);
    expect(got.toolCalls).toEqual([]);
    expect(got.content).not.toContain("bc -l");
    expect(got.finishReasons).toEqual(["stop"]);
  });

  it("numbers tool calls from 0 although the tool_use block has Anthropic index 1", async () => {
    const events = await decodeAll([readFixture("anthropic/messages-tool-use-input-json-delta.sse")]);
    const { steps } = translate(events, false);
    const indexes = steps.flatMap((s) =>
      s.kind === "chunk"
        ? s.chunk.choices.flatMap((c) => (c.delta.tool_calls ?? []).map((tc) => tc.index))
        : [],
    );
    expect(indexes.length).toBeGreaterThan(0);
    expect(new Set(indexes)).toEqual(new Set([0]));
    const first = steps.find((s) => s.kind === "chunk" && s.chunk.choices[0]?.delta.tool_calls !== undefined);
    expect(first?.kind === "chunk" && first.chunk.choices[0]?.delta.tool_calls?.[0]).toEqual({
      index: 0,
      id: "toolu_01NRLabsLyVHZPKxbKvkfSMn",
      type: "function",
      function: { name: "get_weather", arguments: "" },
    });
    expect(JSON.parse(collect(steps).toolCalls[0]?.arguments ?? "")).toEqual({ location: "Paris" });
  });

  it("reports the final input_tokens of message_delta when server tools grew the prompt", async () => {
    const t = new AnthropicStreamTranslator(identity(false));
    for (const ev of await decodeAll([readFixture("anthropic/messages-code-execution-emoji-split.sse")]))
      t.push(ev);
    expect(t.usage).toEqual({ prompt_tokens: 4714, completion_tokens: 304, total_tokens: 5018 });
  });
});
