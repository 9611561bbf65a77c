import { describe, expect, it } from "vitest";
import { SseDecoder } from "../../../../src/sse/decoder.ts";
import { formatEvent } from "../../../../src/sse/encode.ts";
import type { SseEvent } from "../../../../src/sse/types.ts";
import { GeminiStreamTranslator } from "../../../../src/upstream/gemini/index.ts";
import { collect, identity, translate } from "./helpers.ts";

/** Gemini-framed events (CRLF, data only) for the given payloads, through the real decoder. */
function events(...payloads: unknown[]): SseEvent[] {
  const text = payloads.map((p) => formatEvent({ data: JSON.stringify(p) }, "\r\n")).join("");
  const decoder = new SseDecoder();
  return [...decoder.push(text), ...decoder.end()];
}

function textChunk(text: string, extra: Record<string, unknown> = {}, index?: number): unknown {
  return {
    candidates: [
      { content: { parts: [{ text }], role: "model" }, ...(index === undefined ? {} : { index }), ...extra },
    ],
  };
}

describe("GeminiStreamTranslator", () => {
  it.each([
    ["STOP", "stop"],
    ["MAX_TOKENS", "length"],
    ["SAFETY", "content_filter"],
    ["RECITATION", "content_filter"],
    ["BLOCKLIST", "content_filter"],
    ["PROHIBITED_CONTENT", "content_filter"],
    ["SPII", "content_filter"],
    ["OTHER", "stop"],
  ])("maps finishReason %s to %s", (reason, expected) => {
    const got = collect(
      translate(
        new GeminiStreamTranslator(identity(false)),
        events(textChunk("hi", { finishReason: reason })),
      ),
    );
    expect(got.finishReasons).toEqual([expected]);
    expect(got.last).toEqual({ kind: "done" });
  });

  it("turns a data chunk with a top-level error into an error step and ignores the rest", () => {
    const t = new GeminiStreamTranslator(identity(true));
    const steps = translate(
      t,
      events(
        textChunk("partial "),
        { error: { code: 429, message: "Resource has been exhausted", status: "RESOURCE_EXHAUSTED" } },
        textChunk("late", { finishReason: "STOP" }),
      ),
    );
    const got = collect(steps);
    expect(got.content).toBe("partial ");
    expect(got.doneCount).toBe(0);
    expect(got.errors).toEqual([
      { code: "upstream_error", message: "Gemini error RESOURCE_EXHAUSTED: Resource has been exhausted" },
    ]);
    expect(got.last?.kind).toBe("error");
  });

  it("keeps candidates of n>1 apart as separate choices with their own finish reasons", () => {
    const steps = translate(
      new GeminiStreamTranslator(identity(false)),
      events(
        {
          candidates: [
            { index: 0, content: { parts: [{ text: "A1" }] } },
            { index: 1, content: { parts: [{ text: "B1" }] } },
          ],
        },
        {
          candidates: [
            { index: 1, content: { parts: [{ text: "B2" }] }, finishReason: "MAX_TOKENS" },
            { index: 0, content: { parts: [{ text: "A2" }] }, finishReason: "STOP" },
          ],
        },
      ),
    );
    const byChoice = new Map<number, string>();
    const finishes = new Map<number, string | null>();
    let roles = 0;
    for (const s of steps) {
      if (s.kind !== "chunk") continue;
      for (const c of s.chunk.choices) {
        if (c.delta.role !== undefined) roles++;
        byChoice.set(c.index, (byChoice.get(c.index) ?? "") + (c.delta.content ?? ""));
        if (c.finish_reason !== null) finishes.set(c.index, c.finish_reason);
      }
    }
    expect(roles).toBe(2);
    expect(byChoice).toEqual(
      new Map([
        [0, "A1A2"],
        [1, "B1B2"],
      ]),
    );
    expect(finishes).toEqual(
      new Map([
        [0, "stop"],
        [1, "length"],
      ]),
    );
    expect(steps[steps.length - 1]).toEqual({ kind: "done" });
  });

  it("gives each function call its own index and an id unique to the stream", () => {
    const call = (name: string, args: unknown) => ({ functionCall: { name, args } });
    const steps = translate(
      new GeminiStreamTranslator(identity(false, "chatcmpl-abc")),
      events(
        { candidates: [{ content: { parts: [{ text: "Checking." }, call("weather", { city: "Paris" })] } }] },
        { candidates: [{ content: { parts: [call("weather", { city: "東京" })] }, finishReason: "STOP" }] },
      ),
    );
    const got = collect(steps);
    expect(got.content).toBe("Checking.");
    expect(got.toolCalls).toEqual([
      { id: "call_abc_0", name: "weather", arguments: '{"city":"Paris"}' },
      { id: "call_abc_1", name: "weather", arguments: '{"city":"東京"}' },
    ]);
    expect(got.finishReasons).toEqual(["tool_calls"]);
    const deltas = steps.flatMap((s) =>
      s.kind === "chunk" ? s.chunk.choices.flatMap((c) => c.delta.tool_calls ?? []) : [],
    );
    expect(deltas.map((d) => d.type)).toEqual(["function", "function"]);
  });

  it("keeps a later stream's tool-call ids distinct from an earlier stream's", () => {
    const ids = ["chatcmpl-one", "chatcmpl-two"].map((id) => {
      const steps = translate(
        new GeminiStreamTranslator(identity(false, id)),
        events({
          candidates: [
            { content: { parts: [{ functionCall: { name: "f", args: {} } }] }, finishReason: "STOP" },
          ],
        }),
      );
      return collect(steps).toolCalls[0]?.id;
    });
    expect(ids[0]).not.toBe(ids[1]);
  });

  it("sends thought parts as reasoning_content and skips empty text parts", () => {
    const got = collect(
      translate(
        new GeminiStreamTranslator(identity(false)),
        events({
          candidates: [
            {
              content: { parts: [{ text: "thinking…", thought: true }, { text: "" }, { text: "answer" }] },
              finishReason: "STOP",
            },
          ],
        }),
      ),
    );
    expect(got.reasoning).toBe("thinking…");
    expect(got.content).toBe("answer");
  });

  it("reports usage from the last usageMetadata, counting thinking tokens as completion", () => {
    const t = new GeminiStreamTranslator(identity(true));
    const got = collect(
      translate(
        t,
        events(
          { ...(textChunk("a") as object), usageMetadata: { promptTokenCount: 5 } },
          {
            ...(textChunk("b", { finishReason: "STOP" }) as object),
            usageMetadata: {
              promptTokenCount: 5,
              candidatesTokenCount: 3,
              thoughtsTokenCount: 4,
              totalTokenCount: 12,
            },
          },
        ),
      ),
    );
    const usage = { prompt_tokens: 5, completion_tokens: 7, total_tokens: 12 };
    expect(t.usage).toEqual(usage);
    expect(got.usageChunks).toEqual([usage]);
  });

  it("ignores SSE comments and blocks without data or an error", () => {
    const decoder = new SseDecoder();
    const evs = [...decoder.push(": keep-alive\r\n\r\n"), ...decoder.end()];
    const t = new GeminiStreamTranslator(identity(false));
    expect(evs.flatMap((ev) => t.push(ev))).toEqual([]);
  });

  it("skips and counts a data line that is not JSON, and goes on", () => {
    const decoder = new SseDecoder();
    const evs = [
      ...decoder.push("data: <html>oops</html>\r\n\r\n"),
      ...events(textChunk("fine", { finishReason: "STOP" })),
    ];
    const t = new GeminiStreamTranslator(identity(false));
    const got = collect(translate(t, evs));
    expect(t.malformed).toBe(1);
    expect(got.errors).toEqual([]);
    expect(got.content).toBe("fine");
    expect(got.doneCount).toBe(1);
  });

  it("returns nothing more after the stream has ended", () => {
    const t = new GeminiStreamTranslator(identity(false));
    translate(t, events(textChunk("x", { finishReason: "STOP" })));
    expect(t.push(events(textChunk("y"))[0] as SseEvent)).toEqual([]);
    expect(t.end(true)).toEqual([]);
  });

  it("ends an empty stream with upstream_interrupted", () => {
    expect(new GeminiStreamTranslator(identity(false)).end(true)).toEqual([
      {
        kind: "error",
        error: { code: "upstream_interrupted", message: "the Gemini stream ended without a finish reason" },
      },
    ]);
  });
});
