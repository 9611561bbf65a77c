import { describe, expect, it } from "vitest";
import type { Env } from "../../../src/env.ts";
import { createRouter } from "../../../src/router.ts";
import type { AiRunner } from "../../../src/upstream/workers-ai/transport.ts";
import { randomSplits, readFixture } from "../../support/fixtures.ts";

const FIXTURE = "cloudflare/workers-ai-llama-text.sse";

/** A stand-in for the AI binding that replays the recorded stream, split at random, and records its calls. */
function fakeAi(calls: { model: string; inputs: Record<string, unknown> }[]): AiRunner {
  return {
    async run(model, inputs) {
      calls.push({ model, inputs });
      if (inputs.stream !== true)
        return { response: "Hi there.", usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } };
      const pieces = randomSplits(readFixture(FIXTURE), 7, 10);
      return new ReadableStream<Uint8Array>({
        start(controller) {
          for (const p of pieces) controller.enqueue(p);
          controller.close();
        },
      });
    },
  };
}

/** Anonymous access to every model: this suite is about Workers AI, not auth. */
const OPEN = { ALLOW_ANONYMOUS: "true", ANONYMOUS_MODELS: "*" } as const;

function chat(env: Env, body: unknown): Promise<Response> {
  const request = new Request("https://gateway.test/v1/chat/completions", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext;
  return createRouter().fetch(request, { ...OPEN, ...env }, ctx);
}

/** The recorded stream's own text and usage, read independently of the translator. */
function recorded(): { text: string; completionTokens: number } {
  const raw = new TextDecoder().decode(readFixture(FIXTURE));
  let text = "";
  let completionTokens = -1;
  for (const m of raw.matchAll(/^data: (\{.*\})$/gm)) {
    const e = JSON.parse(m[1] ?? "{}") as { response?: string; usage?: { completion_tokens: number } };
    text += e.response ?? "";
    if (e.usage) completionTokens = e.usage.completion_tokens;
  }
  return { text, completionTokens };
}

describe("Workers AI through the AI binding", () => {
  it("streams the recorded Workers AI answer as OpenAI chunks ending in [DONE]", async () => {
    const calls: { model: string; inputs: Record<string, unknown> }[] = [];
    const res = await chat(
      { AI: fakeAi(calls) as unknown as Ai },
      {
        model: "workers-ai/@cf/meta/llama-3.1-8b-instruct",
        stream: true,
        stream_options: { include_usage: true },
        messages: [{ role: "user", content: "hello" }],
      },
    );
    expect(res.status).toBe(200);
    const body = await res.text();
    const chunks = [...body.matchAll(/^data: (.*)$/gm)].map((m) => m[1] ?? "");
    expect(chunks.at(-1)).toBe("[DONE]");
    const parsed = chunks.slice(0, -1).map(
      (c) =>
        JSON.parse(c) as {
          choices: { delta: { content?: string } }[];
          usage?: { completion_tokens: number };
        },
    );
    const text = parsed.flatMap((c) => c.choices.map((ch) => ch.delta.content ?? "")).join("");
    const want = recorded();
    expect(text).toBe(want.text);
    expect(parsed.find((c) => c.usage)?.usage?.completion_tokens).toBe(want.completionTokens);
    expect(calls[0]?.model).toBe("@cf/meta/llama-3.1-8b-instruct");
    expect(calls[0]?.inputs).toMatchObject({ stream: true, messages: [{ role: "user", content: "hello" }] });
  });

  it("translates a non-streaming run into one chat.completion", async () => {
    const res = await chat(
      { AI: fakeAi([]) as unknown as Ai },
      {
        model: "workers-ai/@cf/meta/llama-3.1-8b-instruct",
        messages: [{ role: "user", content: "hello" }],
      },
    );
    const completion = (await res.json()) as { object: string; choices: { message: { content: string } }[] };
    expect(completion.object).toBe("chat.completion");
    expect(completion.choices[0]?.message.content).toBe("Hi there.");
  });

  it("answers 503 naming the missing binding when Workers AI is not bound", async () => {
    const res = await chat(
      {},
      { model: "workers-ai/@cf/meta/llama-3.1-8b-instruct", messages: [{ role: "user", content: "x" }] },
    );
    expect(res.status).toBe(503);
    const body = (await res.json()) as { error: { message: string } };
    expect(body.error.message).toMatch(/Workers AI is not bound/);
  });

  it("ends with an in-band error, not [DONE], when the binding's stream stops early", async () => {
    const cut: AiRunner = {
      async run() {
        return new ReadableStream<Uint8Array>({
          start(c) {
            c.enqueue(new TextEncoder().encode('data: {"response":"Hel"}\n\n'));
            c.close();
          },
        });
      },
    };
    const res = await chat(
      { AI: cut as unknown as Ai },
      {
        model: "workers-ai/@cf/meta/llama-3.1-8b-instruct",
        stream: true,
        messages: [{ role: "user", content: "x" }],
      },
    );
    const body = await res.text();
    expect(body).not.toMatch(/^data: \[DONE\]$/m);
    expect(body).toMatch(/"code":"upstream_interrupted"/);
  });
});
