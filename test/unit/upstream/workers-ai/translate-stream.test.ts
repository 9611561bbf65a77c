import { describe, expect, it } from "vitest";
import type { SseEvent } from "../../../../src/sse/types.ts";
import { WorkersAiStreamTranslator, workersAiTranslator } from "../../../../src/upstream/workers-ai/index.ts";
import { decodeAll, oneByteChunks, randomSplits, readFixture } from "../../../support/fixtures.ts";
import { collect, events, expectedSummary, identity, translate, WORKERS_AI_FIXTURE } from "./helpers.ts";

function run(evs: readonly SseEvent[], includeUsage: boolean, cleanEof = true) {
  const t = new WorkersAiStreamTranslator(identity(includeUsage));
  const steps = translate(t, evs, cleanEof);
  return { steps, got: collect(steps), usage: t.usage };
}

describe("Workers AI stream fixture → OpenAI chunks", () => {
  const bytes = readFixture(WORKERS_AI_FIXTURE);
  const expected = expectedSummary();

  it("reproduces the text and usage, then finishes with stop, the usage chunk and done", async () => {
    expect(expected.hasDone).toBe(true);
    const { got, usage, steps } = run(await decodeAll([bytes]), true);
    expect(got.content).toBe(expected.content);
    expect(usage).toEqual(expected.usage);
    expect(got.usageChunks).toEqual([expected.usage]);
    expect(got.finishReasons).toEqual(["stop"]);
    expect(got.errors).toEqual([]);
    expect(got.doneCount).toBe(1);
    expect(got.last).toEqual({ kind: "done" });
    const beforeDone = steps[steps.length - 2];
    expect(beforeDone?.kind === "chunk" && beforeDone.chunk.choices.length === 0).toBe(true);
  });

  it("sends the role first, once, and no empty content deltas", async () => {
    const { got, steps } = run(await decodeAll([bytes]), false);
    expect(got.firstChunkHasRole).toBe(true);
    expect(got.roles).toBe(1);
    const contents = steps.flatMap((s) =>
      s.kind === "chunk" ? s.chunk.choices.map((c) => c.delta.content) : [],
    );
    expect(contents.slice(1).filter((c) => c === "")).toEqual([]);
  });

  it("sends no usage chunk without include_usage but still tracks exact usage", async () => {
    const { got, usage } = run(await decodeAll([bytes]), false);
    expect(got.usageChunks).toEqual([]);
    expect(usage).toEqual(expected.usage);
  });

  it("gives the same result whatever the byte boundaries", async () => {
    const whole = run(await decodeAll([bytes]), true).steps;
    for (const seed of [3, 9, 77, 1000]) {
      expect(run(await decodeAll(randomSplits(bytes, seed, 50)), true).steps).toEqual(whole);
    }
    expect(run(await decodeAll(oneByteChunks(bytes)), true).steps).toEqual(whole);
  });

  it("ends with upstream_interrupted and no done when [DONE] never comes", async () => {
    const evs = await decodeAll([bytes]);
    const { got } = run(
      evs.filter((ev) => ev.data !== "[DONE]"),
      true,
    );
    expect(got.content).toBe(expected.content);
    expect(got.doneCount).toBe(0);
    expect(got.finishReasons).toEqual([]);
    expect(got.last).toEqual({
      kind: "error",
      error: { code: "upstream_interrupted", message: "the Workers AI stream ended without [DONE]" },
    });
  });

  it("ends with upstream_interrupted when the read fails", async () => {
    const evs = await decodeAll([bytes.subarray(0, 400)]);
    const { got } = run(evs, false, false);
    expect(got.doneCount).toBe(0);
    expect(got.errors.map((e) => e.code)).toEqual(["upstream_interrupted"]);
  });
});

describe("WorkersAiStreamTranslator", () => {
  it("assembles OpenAI-style tool-call fragments and skips the all-null closing fragment", () => {
    const got = collect(
      translate(
        new WorkersAiStreamTranslator(identity(false)),
        events(
          {
            response: "",
            tool_calls: [
              { id: "chatcmpl-tool-1", type: "function", index: 0, function: { name: "weather" } },
            ],
          },
          { tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] },
          { tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] },
          { tool_calls: [{ id: null, type: null, function: { name: null, arguments: null } }] },
          "[DONE]",
        ),
      ),
    );
    expect(got.toolCalls).toEqual([
      { id: "chatcmpl-tool-1", name: "weather", arguments: '{"city":"Paris"}' },
    ]);
    expect(got.finishReasons).toEqual(["tool_calls"]);
  });

  it("numbers whole tool calls in order and generates ids when none are given", () => {
    const got = collect(
      translate(
        new WorkersAiStreamTranslator(identity(false, "chatcmpl-w")),
        events(
          {
            tool_calls: [
              { name: "a", arguments: { x: 1 } },
              { name: "b", arguments: "{}" },
            ],
          },
          "[DONE]",
        ),
      ),
    );
    expect(got.toolCalls).toEqual([
      { id: "call_w_0", name: "a", arguments: '{"x":1}' },
      { id: "call_w_1", name: "b", arguments: "{}" },
    ]);
  });

  it("reads OpenAI-shaped chunks from newer models, reasoning included", () => {
    const got = collect(
      translate(
        new WorkersAiStreamTranslator(identity(false)),
        events(
          { choices: [{ index: 0, delta: { reasoning_content: "Let me think." } }] },
          { choices: [{ index: 0, delta: { content: "Answer" } }] },
          { choices: [{ index: 0, delta: {}, finish_reason: "length" }] },
          "[DONE]",
        ),
      ),
    );
    expect(got.reasoning).toBe("Let me think.");
    expect(got.content).toBe("Answer");
    expect(got.finishReasons).toEqual(["length"]);
  });

  it("turns an error chunk into an error step and ignores what follows", () => {
    const t = new WorkersAiStreamTranslator(identity(false));
    const got = collect(
      translate(
        t,
        events({ response: "Hi" }, { error: "AiError: 3040: Capacity temporarily exceeded" }, "[DONE]"),
      ),
    );
    expect(got.content).toBe("Hi");
    expect(got.doneCount).toBe(0);
    expect(got.errors).toEqual([
      { code: "upstream_error", message: "Workers AI error: AiError: 3040: Capacity temporarily exceeded" },
    ]);
  });

  it("skips and counts a data line that is not JSON, and goes on", () => {
    const t = new WorkersAiStreamTranslator(identity(false));
    const got = collect(translate(t, events("<html>", { response: "ok" }, "[DONE]")));
    expect(t.malformed).toBe(1);
    expect(got.errors).toEqual([]);
    expect(got.content).toBe("ok");
    expect(got.doneCount).toBe(1);
  });

  it("is what workersAiTranslator.createStream returns", () => {
    const t = workersAiTranslator.createStream(identity(false));
    expect(collect(translate(t, events({ response: "ok" }, "[DONE]"))).content).toBe("ok");
  });
});
