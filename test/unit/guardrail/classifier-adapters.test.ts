import { describe, expect, it } from "vitest";
import { bindClassifiers } from "../../../src/guardrail/classifiers/bind.ts";
import { parseClassifiers } from "../../../src/guardrail/classifiers/config.ts";
import { promptInput, windowInput } from "../../../src/guardrail/classifiers/run.ts";
import type { ClassifyResult } from "../../../src/guardrail/classifiers/types.ts";
import { lastUserText } from "../../../src/guardrail/classifiers/user-text.ts";

interface Seen {
  url: string;
  headers: Headers;
  body: unknown;
}

/** A fetch answering `answer` (JSON) with `status`, recording each request. */
function fakeFetch(answer: unknown, status = 200) {
  const seen: Seen[] = [];
  const fetcher: typeof fetch = async (input, init) => {
    seen.push({
      url: String(input),
      headers: new Headers(init?.headers),
      body: JSON.parse(String(init?.body)),
    });
    return new Response(typeof answer === "string" ? answer : JSON.stringify(answer), { status });
  };
  return { fetcher, seen };
}

function bind(
  entry: Record<string, unknown>,
  fetcher: typeof fetch,
  ai?: { run: (m: string, i: Record<string, unknown>) => Promise<unknown> },
) {
  const parsed = parseClassifiers([{ name: "c", ...entry }]);
  if (!parsed.ok) throw new Error(parsed.error);
  const secrets: Record<string, string> = {
    LAKERA_API_KEY: "lk-test",
    OPENAI_API_KEY: "sk-test",
    MY_KEY: "mine",
  };
  const [bound] = bindClassifiers(parsed.value, { fetch: fetcher, secret: (n) => secrets[n], ai });
  if (bound === undefined) throw new Error("not bound");
  return bound;
}

const input = windowInput("what is up?", "the window text");
const signal = new AbortController().signal;

describe("classifier adapters speak each service's documented shapes", () => {
  it("lakera: POST /v2/guard with messages, project_id and breakdown; detected detector types", async () => {
    const { fetcher, seen } = fakeFetch({
      flagged: true,
      metadata: { request_uuid: "u" },
      breakdown: [
        { detector_type: "prompt_attack", detected: true },
        { detector_type: "moderated_content/hate", detected: false },
      ],
    });
    const c = bind({ kind: "lakera", projectId: "project-7", url: "https://eu.lakera.test" }, fetcher);
    const r = await c.classify(input, signal);
    expect(r).toEqual({ ok: true, flagged: true, categories: ["prompt_attack"] });
    expect(seen[0]?.url).toBe("https://eu.lakera.test/v2/guard");
    expect(seen[0]?.headers.get("authorization")).toBe("Bearer lk-test");
    expect(seen[0]?.body).toEqual({
      messages: [
        { role: "user", content: "what is up?" },
        { role: "assistant", content: "the window text" },
      ],
      breakdown: true,
      project_id: "project-7",
    });
  });

  it("openai-moderation: POST /v1/moderations with omni-moderation-latest and the window alone", async () => {
    const { fetcher, seen } = fakeFetch({
      id: "modr-1",
      model: "omni-moderation-latest",
      results: [{ flagged: true, categories: { harassment: true, violence: false }, category_scores: {} }],
    });
    const c = bind({ kind: "openai-moderation" }, fetcher);
    expect(await c.classify(input, signal)).toEqual({ ok: true, flagged: true, categories: ["harassment"] });
    expect(seen[0]?.url).toBe("https://api.openai.com/v1/moderations");
    expect(seen[0]?.headers.get("authorization")).toBe("Bearer sk-test");
    expect(seen[0]?.body).toEqual({ model: "omni-moderation-latest", input: "the window text" });
  });

  it("nemo: POST /v1/guardrail/checks with the config id; blocked rails are the categories", async () => {
    const { fetcher, seen } = fakeFetch({
      status: "blocked",
      rails_status: { "self check output": { status: "blocked" }, "self check input": { status: "success" } },
    });
    const c = bind({ kind: "nemo", url: "http://nemo.test:8000", configId: "safety" }, fetcher);
    expect(await c.classify(input, signal)).toEqual({
      ok: true,
      flagged: true,
      categories: ["self check output"],
    });
    expect(seen[0]?.url).toBe("http://nemo.test:8000/v1/guardrail/checks");
    expect(seen[0]?.headers.get("authorization")).toBeNull();
    expect(seen[0]?.body).toMatchObject({ guardrails: { config_id: "safety" }, messages: input.messages });
  });

  it("llama-guard: the Workers AI binding with the messages; unsafe with its hazard codes", async () => {
    const runs: [string, Record<string, unknown>][] = [];
    const ai = {
      run: async (model: string, inputs: Record<string, unknown>) => {
        runs.push([model, inputs]);
        return { response: { safe: false, categories: ["S10"] } };
      },
    };
    const c = bind({ kind: "llama-guard" }, fakeFetch({}).fetcher, ai);
    expect(await c.classify(input, signal)).toEqual({ ok: true, flagged: true, categories: ["S10"] });
    expect(runs).toEqual([["@cf/meta/llama-guard-3-8b", { messages: input.messages }]]);
  });

  it("llama-guard without the binding is unavailable, not a crash", async () => {
    const c = bind({ kind: "llama-guard" }, fakeFetch({}).fetcher);
    expect(await c.classify(input, signal)).toEqual({ ok: false, reason: "no AI binding" });
  });

  it("http: our contract, POST /classify with the phase, messages and text", async () => {
    const { fetcher, seen } = fakeFetch({ flagged: false });
    const c = bind({ kind: "http", url: "https://guard.test", keySecret: "MY_KEY" }, fetcher);
    expect(await c.classify(promptInput("hello"), signal)).toEqual({
      ok: true,
      flagged: false,
      categories: [],
    });
    expect(seen[0]?.url).toBe("https://guard.test/classify");
    expect(seen[0]?.headers.get("authorization")).toBe("Bearer mine");
    expect(seen[0]?.body).toEqual({
      classifier: "c",
      phase: "prompt",
      messages: [{ role: "user", content: "hello" }],
      text: "hello",
    });
  });

  it.each([
    ["a non-2xx status", { flagged: true }, 503, "http 503"],
    ["a body that is not JSON", "<html>", 200, "answer not JSON"],
    ["an answer without flagged", { verdict: "ok" }, 200, "unexpected answer"],
  ])("turns %s into a reason, never a verdict", async (_, answer, status, reason) => {
    const c = bind({ kind: "http", url: "https://guard.test" }, fakeFetch(answer, status).fetcher);
    expect(await c.classify(input, signal)).toEqual({ ok: false, reason });
  });

  it("answers timeout at timeoutMs even when the service never does", async () => {
    const never: typeof fetch = (_i, init) =>
      new Promise((_, reject) => init?.signal?.addEventListener("abort", () => reject(new Error("aborted"))));
    const c = bind({ kind: "http", url: "https://guard.test", timeoutMs: 5 }, never);
    const r: ClassifyResult = await c.classify(input, signal);
    expect(r).toEqual({ ok: false, reason: "timeout" });
  });
});

describe("lastUserText", () => {
  it("reads the last user message of each request format", () => {
    expect(
      lastUserText({
        messages: [
          { role: "user", content: "first" },
          { role: "assistant", content: "x" },
          { role: "user", content: [{ type: "text", text: "second" }] },
        ],
      }),
    ).toBe("second");
    expect(lastUserText({ contents: [{ role: "user", parts: [{ text: "gemini" }] }] })).toBe("gemini");
    expect(lastUserText({ input: "responses" })).toBe("responses");
    expect(
      lastUserText({ input: [{ role: "user", content: [{ type: "input_text", text: "items" }] }] }),
    ).toBe("items");
    expect(lastUserText({ model: "m" })).toBeUndefined();
  });
});
