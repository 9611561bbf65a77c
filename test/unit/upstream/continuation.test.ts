import { describe, expect, it } from "vitest";
import { continuable } from "../../../src/exchange/continuable.ts";
import { sseEvent } from "../../../src/sse/encode.ts";
import { anthropicPrefill } from "../../../src/upstream/anthropic/prefill.ts";
import type { SeamSpec } from "../../../src/upstream/format.ts";
import { chatPrefill } from "../../../src/upstream/openai-chat/prefill.ts";
import { chatSeam } from "../../../src/upstream/openai-chat/seam.ts";
import { buildProviders, parseProviderEntries } from "../../../src/upstream/providers.ts";

const chunk = (delta: object, finish: string | null = null, id = "later") =>
  sseEvent({
    data: JSON.stringify({
      id,
      created: 99,
      object: "chat.completion.chunk",
      choices: [{ index: 0, delta, finish_reason: finish }],
    }),
  });

const DONE = sseEvent({ data: "[DONE]" });

const spec = (over: Partial<SeamSpec>): SeamSpec => ({
  mode: "replay",
  delivered: "",
  seamWhitespace: "",
  firstData: JSON.stringify({ id: "first", created: 11 }),
  priorOutputTokens: 0,
  ...over,
});

/** Runs events through a seam: the text it lets through, the chunks, or the failure. */
function join(s: SeamSpec, events: ReturnType<typeof chunk>[]) {
  const seam = chatSeam(s);
  let text = "";
  const chunks: Record<string, unknown>[] = [];
  for (const ev of events) {
    const r = seam.push(ev);
    if (!r.ok) return { failed: r.error.message, text, chunks };
    for (const e of r.events) {
      if (e.ev.data === "[DONE]") continue;
      const c = JSON.parse(e.ev.data) as { choices: { delta: { content?: string } }[] };
      chunks.push(c as unknown as Record<string, unknown>);
      text += c.choices[0]?.delta.content ?? "";
    }
  }
  return { failed: undefined, text, chunks };
}

describe("the Chat Completions seam", () => {
  it("forwards only what follows the delivered text, however the replay splits it", () => {
    const answer = "The answer is 42, of course.";
    const delivered = "The answer is";
    for (let a = 1; a < answer.length; a++) {
      for (const b of [a + 1, answer.length]) {
        if (b > answer.length) continue;
        const parts = [answer.slice(0, a), answer.slice(a, b), answer.slice(b)].filter((p) => p !== "");
        const got = join(spec({ delivered }), [
          chunk({ role: "assistant", content: "" }),
          ...parts.map((p) => chunk({ content: p })),
          chunk({}, "stop"),
        ]);
        expect(got.failed).toBeUndefined();
        expect(delivered + got.text).toBe(answer);
      }
    }
  });

  it("keeps the first attempt's id and created and drops the second role", () => {
    const got = join(spec({ mode: "prefill", delivered: "Hi" }), [
      chunk({ role: "assistant", content: "" }),
      chunk({ content: " you" }),
      DONE,
    ]);
    expect(got.chunks).toHaveLength(1);
    expect(got.chunks[0]).toMatchObject({ id: "first", created: 11 });
    expect(JSON.stringify(got.chunks)).not.toContain("role");
  });

  it("fails a replay that diverges, or ends before it caught up", () => {
    expect(join(spec({ delivered: "Blue is" }), [chunk({ content: "Blue was" })]).failed).toMatch(/diverged/);
    expect(
      join(spec({ delivered: "Blue is" }), [chunk({ content: "Blue" }), chunk({}, "stop")]).failed,
    ).toMatch(/ended before/);
  });

  it("holds a prefill continuation until it can tell a preamble, however it is split", () => {
    const tokens = ["Sure", "! Continuing", ":", "\n", " Paris."];
    const split = join(spec({ mode: "prefill", delivered: "x" }), [
      ...tokens.map((t) => chunk({ content: t })),
      DONE,
    ]);
    expect(split.failed).toMatch(/preamble/);
    // Ordinary text is released as soon as a line (or 80 characters) shows no preamble.
    const seam = chatSeam(spec({ mode: "prefill", delivered: "The capital is" }));
    expect(seam.push(chunk({ content: " Paris" }))).toEqual({ ok: true, events: [] });
    const released = seam.push(chunk({ content: ".\n" }));
    expect(released.ok && released.events.length).toBe(2);
  });

  it("drops the left-out whitespace even when the continuation splits it", () => {
    const got = join(spec({ mode: "prefill", delivered: "One.\n\n", seamWhitespace: "\n\n" }), [
      chunk({ content: "\n" }),
      chunk({ content: "\nTwo." }),
      DONE,
    ]);
    expect(got.text).toBe("Two.");
  });

  it("rejects a prefill continuation that opens with a preamble, and one that writes a tool call", () => {
    expect(
      join(spec({ mode: "prefill", delivered: "x" }), [chunk({ content: "Sure! Continuing:\n more" })])
        .failed,
    ).toMatch(/preamble/);
    const tool = { tool_calls: [{ index: 0, function: { arguments: "{" } }] };
    expect(join(spec({ mode: "prefill", delivered: "x" }), [chunk(tool)]).failed).toMatch(
      /other than the answer/,
    );
  });

  it("does not repeat the whitespace the prefill left out, and adds earlier usage", () => {
    const got = join(
      spec({ mode: "prefill", delivered: "Hello ", seamWhitespace: " ", priorOutputTokens: 3 }),
      [
        chunk({ content: " world" }),
        sseEvent({
          data: JSON.stringify({
            id: "later",
            choices: [],
            usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 },
          }),
        }),
        DONE,
      ],
    );
    expect(got.text).toBe("world");
    expect(got.chunks[1]).toMatchObject({ usage: { completion_tokens: 5, total_tokens: 10 } });
  });
});

describe("prefill requests", () => {
  it("Anthropic: the delivered text as the final assistant message, its trailing whitespace left out", () => {
    const body = { model: "m", messages: [{ role: "user", content: "hi" }] };
    expect(anthropicPrefill(body, "Hello \n", 2)).toEqual({
      body: {
        model: "m",
        messages: [
          { role: "user", content: "hi" },
          { role: "assistant", content: "Hello" },
        ],
      },
      seamWhitespace: " \n",
    });
    // The client's own prefill is continued, not repeated; extended thinking cannot be prefilled.
    const own = {
      messages: [
        { role: "user", content: "hi" },
        { role: "assistant", content: "{" },
      ],
    };
    expect(anthropicPrefill(own, '"a": 1', 2)?.body.messages).toEqual([
      { role: "user", content: "hi" },
      { role: "assistant", content: '{"a": 1' },
    ]);
    expect(
      anthropicPrefill({ ...body, thinking: { type: "enabled", budget_tokens: 1024 } }, "x", 1),
    ).toBeUndefined();
    expect(anthropicPrefill(body, "  ", 1)).toBeUndefined();
  });

  it("leaves the continuation only the token limit the delivered text did not use", () => {
    const body = { model: "m", max_tokens: 100, messages: [{ role: "user", content: "hi" }] };
    expect(anthropicPrefill(body, "Hello", 30)?.body.max_tokens).toBe(70);
    expect(chatPrefill({ ...body, max_completion_tokens: 50 }, "Hel", "prefill", 30)?.body).toMatchObject({
      max_tokens: 70,
      max_completion_tokens: 20,
    });
    // Nothing left: the answer had reached its limit, so it is not continued.
    expect(anthropicPrefill(body, "Hello", 100)).toBeUndefined();
    expect(chatPrefill({ ...body, max_completion_tokens: 10 }, "Hel", "prefill", 10)).toBeUndefined();
  });

  it("OpenAI-compatible: vLLM's continue_final_message, or prefix: true", () => {
    const body = { model: "m", messages: [{ role: "user", content: "hi" }] };
    expect(chatPrefill(body, "Hel", "prefill", 1)?.body).toEqual({
      model: "m",
      continue_final_message: true,
      add_generation_prompt: false,
      messages: [
        { role: "user", content: "hi" },
        { role: "assistant", content: "Hel" },
      ],
    });
    expect(chatPrefill(body, "Hel", "prefill-prefix", 1)?.body.messages).toContainEqual({
      role: "assistant",
      content: "Hel",
      prefix: true,
    });
  });
});

describe("what may be continued", () => {
  const none = new Headers();
  it.each([
    [{ n: 2 }, none],
    [{ logprobs: true }, none],
    [{ top_logprobs: 2 }, none],
    [{ response_format: { type: "json_object" } }, none],
    [{ response_format: { type: "json_schema", json_schema: {} } }, none],
    [{}, new Headers({ "x-continuation": "off" })],
  ])("never %j", (body, headers) => {
    expect(continuable(body, headers)).toBe(false);
  });

  it("a plain request, text response_format and n = 1 included", () => {
    expect(continuable({ n: 1, response_format: { type: "text" } }, none)).toBe(true);
  });
});

describe("PROVIDERS[].continuation", () => {
  it("defaults by format and refuses a strategy the format cannot use, naming the provider", () => {
    const providers = buildProviders(
      {
        PROVIDERS: JSON.stringify([
          { name: "vllm", baseUrl: "http://v", format: "openai", continuation: "prefill" },
        ]),
      },
      () => undefined,
      [],
    );
    expect(providers.get("vllm")?.continuation).toBe("prefill");
    expect(providers.get("openai")?.continuation).toBe("replay");
    expect(providers.get("anthropic")?.continuation).toBe("prefill");
    expect(providers.get("gemini")?.continuation).toBe("replay");
    expect(() =>
      parseProviderEntries(
        JSON.stringify([{ name: "g", baseUrl: "http://g", format: "gemini", continuation: "prefill" }]),
      ),
    ).toThrow('PROVIDERS[0] (g): continuation must be "replay", "off" for format gemini');
  });
});
