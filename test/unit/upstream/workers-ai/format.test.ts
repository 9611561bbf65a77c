import { describe, expect, it } from "vitest";
import type { SseEvent } from "../../../../src/sse/types.ts";
import { WorkersAiStreamTranslator, workersAiFormat } from "../../../../src/upstream/workers-ai/index.ts";
import { decodeAll, readFixture, wire } from "../../../support/fixtures.ts";
import {
  collect,
  decodeText,
  events,
  expectedSummary,
  identity,
  translate,
  WORKERS_AI_FIXTURE,
} from "./helpers.ts";

describe("workersAiFormat.inspect", () => {
  it("reads the fixture's text on one channel, its usage, and complete only at [DONE]", async () => {
    const evs = await decodeAll([readFixture(WORKERS_AI_FIXTURE)]);
    const expected = expectedSummary();
    expect(evs).toHaveLength(expected.dataEvents);
    let text = "";
    const channels = new Set<string>();
    const completeAt: number[] = [];
    let usage: { inputTokens?: number; outputTokens?: number } | undefined;
    evs.forEach((ev, i) => {
      const info = workersAiFormat.inspect(ev);
      for (const p of info.parts) {
        channels.add(p.channel);
        text += p.text;
      }
      if (info.signal === "complete") completeAt.push(i);
      usage = info.usage ?? usage;
    });
    expect(text).toBe(expected.content);
    expect(channels).toEqual(new Set(["c0/content"]));
    expect(completeAt).toEqual([evs.length - 1]);
    expect(usage).toEqual({
      inputTokens: expected.usage?.prompt_tokens,
      outputTokens: expected.usage?.completion_tokens,
    });
  });

  it("reads OpenAI-shaped chunks and tool-call arguments so a guardrail sees them", () => {
    const [a, b] = events(
      { choices: [{ index: 0, delta: { reasoning_content: "hmm", content: "yes" }, finish_reason: "stop" }] },
      { tool_calls: [{ index: 0, function: { arguments: '{"q":1}' } }] },
    );
    expect(workersAiFormat.inspect(a as SseEvent)).toEqual({
      parts: [
        { channel: "c0/content", text: "yes" },
        { channel: "c0/reasoning", text: "hmm" },
      ],
      finishReason: "stop",
    });
    expect(workersAiFormat.inspect(b as SseEvent).parts).toEqual([
      { channel: "c0/tool0/args", text: '{"q":1}' },
    ]);
  });

  it("signals error for a chunk with a top-level error", () => {
    const [ev] = events({ error: { message: "model overloaded" } });
    expect(workersAiFormat.inspect(ev as SseEvent)).toEqual({
      parts: [],
      signal: "error",
      errorMessage: "model overloaded",
    });
  });
});

describe("workersAiFormat.rewrite", () => {
  it("replaces the response text and keeps every other field", async () => {
    const evs = await decodeAll([readFixture(WORKERS_AI_FIXTURE)]);
    const ev = evs[1] as SseEvent;
    const out = workersAiFormat.rewrite(ev, ["[redacted]"]);
    expect(out.raw.endsWith("\n\n")).toBe(true);
    expect(JSON.parse(out.data)).toEqual({ ...JSON.parse(ev.data), response: "[redacted]" });
    const [again] = decodeText(out.raw);
    expect(workersAiFormat.inspect(again as SseEvent).parts).toEqual([
      { channel: "c0/content", text: "[redacted]" },
    ]);
  });
});

describe("workersAiFormat.errorEvents and blockedEvents", () => {
  it("writes OpenAI's in-band error chunk, which inspect reads back as an error", () => {
    const frames = wire(workersAiFormat.errorEvents({ code: "upstream_interrupted", message: "cut" }));
    const evs = decodeText(frames);
    expect(evs).toHaveLength(1);
    expect(JSON.parse(evs[0]?.data ?? "")).toEqual({
      error: { message: "cut", type: "server_error", param: null, code: "upstream_interrupted" },
    });
    expect(workersAiFormat.inspect(evs[0] as SseEvent)).toEqual({
      parts: [],
      signal: "error",
      errorMessage: "cut",
    });
  });

  it("ends a blocked stream with a content_filter chunk naming the rule, then [DONE]", () => {
    const evs = decodeText(wire(workersAiFormat.blockedEvents("no-pii")));
    expect(evs.map((ev) => ev.data)).toEqual([expect.stringContaining('"no-pii"'), "[DONE]"]);
    expect(workersAiFormat.inspect(evs[0] as SseEvent)).toEqual({
      parts: [],
      finishReason: "content_filter",
    });
    expect(workersAiFormat.inspect(evs[1] as SseEvent).signal).toBe("complete");
    const got = collect(
      translate(new WorkersAiStreamTranslator(identity(false)), [...events({ response: "Hi" }), ...evs]),
    );
    expect(got.content).toBe("Hi");
    expect(got.finishReasons).toEqual(["content_filter"]);
    expect(got.last).toEqual({ kind: "done" });
  });
});
