import type { ServerResponse } from "node:http";
import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type LocalGateway, startGateway } from "../support/gateway.ts";
import { MockUpstream, type ReceivedRequest, startSse } from "../support/mock-upstream.ts";
import { readToEnd } from "../support/read-to-end.ts";

/**
 * Exact mid-stream continuation (issue 15), through the real worker and a loopback upstream: an
 * attempt fails after text reached the client, and the answer goes on from another attempt only
 * when the client's text stays exactly one answer; otherwise the explicit in-band error, as before.
 */
const mock = new MockUpstream();
let gateway: LocalGateway;
let watched: LocalGateway;
let guarded: LocalGateway;
/** Every upstream request, in order. */
let seen: ReceivedRequest[] = [];

const chunk = (delta: object, finish: string | null = null, id = "up-1") =>
  `data: ${JSON.stringify({ id, object: "chat.completion.chunk", created: 11, model: "m", choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
const role = (id?: string) => chunk({ role: "assistant", content: "" }, null, id);
const text = (t: string, id?: string) => chunk({ content: t }, null, id);
const finish = (id?: string) => `${chunk({}, "stop", id)}data: [DONE]\n\n`;

const anthropic = (name: string, data: unknown) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
const anthropicStart = () =>
  anthropic("message_start", {
    type: "message_start",
    message: { id: "msg_1", usage: { input_tokens: 3, output_tokens: 1 } },
  }) +
  anthropic("content_block_start", {
    type: "content_block_start",
    index: 0,
    content_block: { type: "text", text: "" },
  });
const anthropicText = (t: string) =>
  anthropic("content_block_delta", {
    type: "content_block_delta",
    index: 0,
    delta: { type: "text_delta", text: t },
  });
const anthropicEnd = () =>
  anthropic("message_delta", {
    type: "message_delta",
    delta: { stop_reason: "end_turn" },
    usage: { output_tokens: 5 },
  }) + anthropic("message_stop", { type: "message_stop" });
const overloaded = () =>
  anthropic("error", { type: "error", error: { type: "overloaded_error", message: "Overloaded" } });

/** Writes `head` and then drops the connection, as a reset mid-answer does. */
function drop(res: ServerResponse, head: string): void {
  startSse(res);
  res.write(head, () => setTimeout(() => res.socket?.destroy(), 20));
}

const BINDINGS = (url: string) => ({
  OPENAI_BASE_URL: `${url}/openai/v1`,
  ANTHROPIC_BASE_URL: `${url}/anthropic`,
  OPENAI_API_KEY: "sk-e2e-openai",
  ANTHROPIC_API_KEY: "sk-ant-e2e",
  PROVIDERS: JSON.stringify([
    { name: "vllm", baseUrl: `${url}/vllm/v1`, format: "openai", continuation: "prefill" },
  ]),
  RETRY_BACKOFF_MS: "10",
  GUARDRAIL_MODE: "off",
});

beforeAll(async () => {
  await mock.start();
  [gateway, watched, guarded] = await Promise.all([
    startGateway(BINDINGS(mock.baseUrl)),
    startGateway({ ...BINDINGS(mock.baseUrl), STREAM_IDLE_TIMEOUT_MS: "300" }),
    // wrangler.toml's guardrail: enforce, payment cards redacted.
    startGateway({ ...BINDINGS(mock.baseUrl), GUARDRAIL_MODE: "enforce" }),
  ]);
});

afterAll(async () => {
  await Promise.all([gateway.dispose(), watched.dispose(), guarded.dispose()]);
  await mock.stop();
});

beforeEach(() => {
  seen = [];
});

/** Answers the nth upstream request (from 0) with `script[n]`. */
function script(...steps: ((req: ReceivedRequest, res: ServerResponse) => void)[]): void {
  mock.handle((req, res) => {
    const step = steps[seen.length] ?? steps[steps.length - 1];
    seen.push(req);
    step?.(req, res);
  });
}

function chat(gw: LocalGateway, model: string, headers: Record<string, string> = {}, extra: object = {}) {
  return fetch(new URL("/v1/chat/completions", gw.url), {
    method: "POST",
    headers: { "content-type": "application/json", "x-resumable": "false", ...headers },
    body: JSON.stringify({ model, stream: true, messages: [{ role: "user", content: "hi" }], ...extra }),
  });
}

/** The data chunks of an OpenAI stream, parsed, and its text. */
function chunksOf(sse: string): { chunks: Record<string, unknown>[]; text: string; done: number } {
  const chunks: Record<string, unknown>[] = [];
  let done = 0;
  let all = "";
  for (const m of sse.matchAll(/^data: (.*)$/gm)) {
    if (m[1] === "[DONE]") {
      done++;
      continue;
    }
    const c = JSON.parse(m[1] ?? "{}") as Record<string, unknown> & {
      choices?: { delta?: { content?: string } }[];
    };
    chunks.push(c);
    all += c.choices?.[0]?.delta?.content ?? "";
  }
  return { chunks, text: all, done };
}

const bodyOf = (req: ReceivedRequest | undefined) => JSON.parse(req?.body ?? "{}") as Record<string, unknown>;

describe("prefill: the target continues the delivered text", () => {
  it("continues a vLLM answer dropped mid-stream: one answer, one role, one id, the seam marked", async () => {
    script(
      (_req, res) => drop(res, role() + text("Hello") + text(" there")),
      (_req, res) => {
        startSse(res);
        res.end(role("up-2") + text(", friend.", "up-2") + finish("up-2"));
      },
    );
    const raw = await readToEnd(await chat(gateway, "vllm/llama"));
    const { chunks, text: answer, done } = chunksOf(raw);
    expect(answer).toBe("Hello there, friend.");
    expect(done).toBe(1);
    expect(raw).toContain(": continued after upstream_interrupted\n\n");
    expect(raw).not.toContain('"error"');
    // One answer: the first attempt's id and created on every chunk, and a role only once.
    expect(new Set(chunks.map((c) => c.id))).toEqual(new Set(["up-1"]));
    expect(new Set(chunks.map((c) => c.created))).toEqual(new Set([11]));
    expect(raw.match(/"role":"assistant"/g)).toHaveLength(1);
    // What the target was asked: the original messages, then the delivered text to continue.
    expect(seen).toHaveLength(2);
    const second = bodyOf(seen[1]);
    expect(second.messages).toEqual([
      { role: "user", content: "hi" },
      { role: "assistant", content: "Hello there" },
    ]);
    expect(second).toMatchObject({
      continue_final_message: true,
      add_generation_prompt: false,
      model: "llama",
    });
  });

  it("the official OpenAI SDK reads a continued answer as one clean stream", async () => {
    script(
      (_req, res) => drop(res, role() + text("one, two")),
      (_req, res) => {
        startSse(res);
        res.end(role() + text(", three") + finish());
      },
    );
    const client = new OpenAI({ baseURL: new URL("/v1", gateway.url).href, apiKey: "unused", maxRetries: 0 });
    const stream = await client.chat.completions.create(
      { model: "vllm/llama", stream: true, messages: [{ role: "user", content: "count" }] },
      { headers: { "x-resumable": "false" } },
    );
    let got = "";
    for await (const c of stream) got += c.choices[0]?.delta.content ?? "";
    expect(got).toBe("one, two, three");
  });

  it("continues Anthropic after a mid-stream overloaded_error, its trailing whitespace moved to the seam", async () => {
    script(
      (_req, res) => {
        startSse(res);
        res.end(anthropicStart() + anthropicText("Hello ") + overloaded());
      },
      (_req, res) => {
        startSse(res);
        res.end(anthropicStart() + anthropicText(" world.") + anthropicEnd());
      },
    );
    const raw = await readToEnd(await chat(gateway, "anthropic/claude-x"));
    expect(chunksOf(raw).text).toBe("Hello world.");
    expect(raw).toContain(": continued after upstream_error\n\n");
    const messages = bodyOf(seen[1]).messages as { role: string; content: string }[];
    // Anthropic refuses trailing whitespace in the prefill: it was delivered already, so it is left out.
    expect(messages.at(-1)).toEqual({ role: "assistant", content: "Hello" });
  });

  it("a target that refuses the prefill (400) cannot continue: the client gets the first failure, never that 400", async () => {
    script(
      (_req, res) => {
        startSse(res);
        res.end(anthropicStart() + anthropicText("Partial") + overloaded());
      },
      (_req, res) => {
        res.writeHead(400, { "content-type": "application/json" });
        res.end(
          JSON.stringify({
            type: "error",
            error: {
              type: "invalid_request_error",
              message: "This model does not support assistant message prefill.",
            },
          }),
        );
      },
    );
    const raw = await readToEnd(await chat(gateway, "anthropic/claude-y"));
    expect(chunksOf(raw.replace(/^data: \{"error".*$/gm, "")).text).toBe("Partial");
    expect(raw).toContain("Overloaded");
    expect(raw).not.toContain("prefill");
    expect(raw).not.toContain("[DONE]");
  });

  it("rejects a continuation that opens with a preamble: the explicit error, never the chatter", async () => {
    script(
      (_req, res) => drop(res, role() + text("The capital is")),
      (_req, res) => {
        startSse(res);
        res.end(role() + text("Sure! Continuing from where I left off:\n") + text(" Paris.") + finish());
      },
    );
    const raw = await readToEnd(await chat(gateway, "vllm/llama"));
    expect(raw).not.toContain("Sure");
    expect(raw).toContain("upstream_interrupted");
    expect(chunksOf(raw.replace(/^data: \{"error".*$/gm, "")).text).toBe("The capital is");
  });
});

describe("replay: the same request again, accepted only if it reproduces the delivered text", () => {
  it("forwards only what follows the delivered text", async () => {
    script(
      (_req, res) => drop(res, role() + text("The answer") + text(" is")),
      (_req, res) => {
        startSse(res);
        res.end(
          role("up-2") +
            text("The ans", "up-2") +
            text("wer is 42", "up-2") +
            text(".", "up-2") +
            finish("up-2"),
        );
      },
    );
    const raw = await readToEnd(await chat(gateway, "openai/gpt-x", {}, { temperature: 0 }));
    expect(chunksOf(raw).text).toBe("The answer is 42.");
    // The replay was the request unchanged (sampling untouched), not a prefill.
    expect(bodyOf(seen[1])).toEqual(bodyOf(seen[0]));
    expect(bodyOf(seen[1]).temperature).toBe(0);
  });

  it("fails when the replay diverges: the explicit error, nothing of the other answer", async () => {
    script(
      (_req, res) => drop(res, role() + text("Blue is")),
      (_req, res) => {
        startSse(res);
        res.end(role() + text("Red is a colour.") + finish());
      },
    );
    const raw = await readToEnd(await chat(gateway, "openai/gpt-x", {}, { temperature: 0 }));
    expect(seen).toHaveLength(2);
    expect(raw).not.toContain("Red");
    expect(raw).toContain("upstream_interrupted");
    expect(raw).not.toContain("[DONE]");
  });
});

describe("what is never continued", () => {
  it("a replay of a request that did not ask for deterministic sampling is not even tried", async () => {
    script((_req, res) => drop(res, role() + text("Random")));
    const raw = await readToEnd(await chat(gateway, "openai/gpt-x", {}, { temperature: 0.7 }));
    expect(raw).toContain("upstream_interrupted");
    expect(seen).toHaveLength(1);
  });

  it("a tool call opened without arguments yet, or an answer whose finish reason was delivered", async () => {
    const openedTool = chunk({
      tool_calls: [{ index: 0, id: "c1", type: "function", function: { name: "f", arguments: "" } }],
    });
    for (const head of [
      role() + text("Let me check.") + openedTool,
      role() + text("Done.") + chunk({}, "stop"),
    ]) {
      seen = [];
      script((_req, res) => drop(res, head));
      const raw = await readToEnd(await chat(gateway, "vllm/llama"));
      expect(raw).toContain("upstream_interrupted");
      expect(raw).not.toContain("[DONE]");
      expect(seen).toHaveLength(1);
    }
  });

  it("a tool call dropped mid-arguments: the explicit error, and no second request", async () => {
    script((_req, res) =>
      drop(
        res,
        role() +
          chunk({
            tool_calls: [
              { index: 0, id: "call_1", type: "function", function: { name: "f", arguments: '{"ci' } },
            ],
          }),
      ),
    );
    const raw = await readToEnd(await chat(gateway, "vllm/llama"));
    expect(raw).toContain("upstream_interrupted");
    expect(seen).toHaveLength(1);
  });

  it("a request with x-continuation: off, or structured output: the explicit error, one request", async () => {
    for (const [headers, extra] of [
      [{ "x-continuation": "off" }, {}],
      [{}, { response_format: { type: "json_object" } }],
    ] as const) {
      seen = [];
      script((_req, res) => drop(res, role() + text("Half")));
      const raw = await readToEnd(await chat(gateway, "vllm/llama", headers, extra));
      expect(raw).toContain("upstream_interrupted");
      expect(seen).toHaveLength(1);
    }
  });
});

describe("stalls and resumable streams", () => {
  it("continues after the stall watchdog fires mid-answer", async () => {
    script(
      (_req, res) => {
        startSse(res);
        res.write(role() + text("Still"));
      },
      (_req, res) => {
        startSse(res);
        res.end(role() + text(" here.") + finish());
      },
    );
    const raw = await readToEnd(await chat(watched, "vllm/llama"));
    expect(chunksOf(raw).text).toBe("Still here.");
    expect(raw).toContain(": continued after upstream_stalled\n\n");
  });

  it("stores a continued resumable stream: its replay is byte for byte what the live client got", async () => {
    script(
      (_req, res) => drop(res, role() + text("Stored")),
      (_req, res) => {
        startSse(res);
        res.end(role() + text(" whole.") + finish());
      },
    );
    const live = await chat(gateway, "vllm/llama", { "x-resumable": "true" });
    const got = await readToEnd(live);
    expect(chunksOf(got).text).toBe("Stored whole.");
    const id = live.headers.get("x-stream-id");
    const replay = await readToEnd(await fetch(new URL(`/v1/streams/${id}`, gateway.url)));
    expect(replay.replace(/^retry: \d+\n\n/, "")).toBe(got);
    // Event ids run 1..N without a gap across the seam.
    const ids = [...got.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
    expect(ids).toEqual(ids.map((_, i) => i + 1));
  });
});

describe("an answer ended on purpose is never continued", () => {
  it("a DELETE of a live resumable stream aborts the upstream and opens no continuation", async () => {
    let sent = 0;
    mock.handle(async (req, res) => {
      seen.push(req);
      startSse(res);
      res.write(role());
      for (; sent < 400 && !res.destroyed; sent++) {
        res.write(text(`w${sent} `));
        await new Promise((r) => setTimeout(r, 10));
      }
      if (!res.destroyed) res.end(finish());
    });
    const live = await chat(gateway, "vllm/llama", { "x-resumable": "true" });
    const id = live.headers.get("x-stream-id");
    await live.body?.getReader().read();
    await fetch(new URL(`/v1/streams/${id}`, gateway.url), { method: "DELETE" });
    await mock.requests.at(-1)?.closed;
    // A continuation would follow within the backoff (10 ms here); give it ten times that.
    await new Promise((r) => setTimeout(r, 100));
    expect(seen).toHaveLength(1);
    expect(sent).toBeLessThan(400);
  });
});

describe("the continued answer is one answer everywhere", () => {
  it("the guardrail sees one text: a card number split across the seam is redacted", async () => {
    script(
      (_req, res) => drop(res, role() + text("Pay with 4242 4242")),
      (_req, res) => {
        startSse(res);
        res.end(role() + text(" 4242 4242 today.") + finish());
      },
    );
    const raw = await readToEnd(await chat(guarded, "vllm/llama"));
    const got = chunksOf(raw).text;
    expect(got).not.toMatch(/4242/);
    expect(got).toContain("today.");
    expect(raw).toContain(": continued after upstream_interrupted");
  });

  it("continues on the native OpenAI Chat Completions route too", async () => {
    script(
      (_req, res) => drop(res, role() + text("Native")),
      (_req, res) => {
        startSse(res);
        res.end(role() + text(" too.") + finish());
      },
    );
    const res = await fetch(new URL("/vllm/v1/chat/completions", gateway.url), {
      method: "POST",
      headers: { "content-type": "application/json", "x-resumable": "false" },
      body: JSON.stringify({ model: "llama", stream: true, messages: [{ role: "user", content: "hi" }] }),
    });
    expect(chunksOf(await readToEnd(res)).text).toBe("Native too.");
    expect(bodyOf(seen[1]).messages).toEqual([
      { role: "user", content: "hi" },
      { role: "assistant", content: "Native" },
    ]);
  });

  it("moves to the chain's next target when the same target cannot continue", async () => {
    script(
      (_req, res) => drop(res, role() + text("First half")),
      (_req, res) => {
        res.writeHead(503, { "content-type": "application/json" }).end('{"error":{"message":"busy"}}');
      },
      (_req, res) => {
        startSse(res);
        res.end(role() + text(", second half.") + finish());
      },
    );
    const res = await chat(gateway, "", {}, { model: undefined, models: ["vllm/llama", "vllm/mistral"] });
    expect(chunksOf(await readToEnd(res)).text).toBe("First half, second half.");
    expect(seen.map((r) => bodyOf(r).model)).toEqual(["llama", "llama", "mistral"]);
  });

  it("never continues across reasoning already delivered", async () => {
    script((_req, res) => drop(res, role() + chunk({ reasoning_content: "Thinking" }) + text("Half")));
    const raw = await readToEnd(await chat(gateway, "vllm/llama"));
    expect(raw).toContain("upstream_interrupted");
    expect(seen).toHaveLength(1);
  });
});

describe("continuations and circuits", () => {
  it("a target that keeps failing as a continuation gets its circuit opened, and is then skipped", async () => {
    // Each stream: the first target drops mid-answer, then answers 503 to its continuation; the chain's
    // next target answers 503 too. Three such failures open the next target's circuit.
    const byModel = (model: string) => seen.filter((r) => bodyOf(r).model === model).length;
    mock.handle((req, res) => {
      seen.push(req);
      const body = bodyOf(req);
      const continuing = Array.isArray(body.messages) && body.messages.length > 1;
      if (body.model === "circ-a" && !continuing) drop(res, role() + text("Partial"));
      else res.writeHead(503, { "content-type": "application/json" }).end('{"error":{"message":"busy"}}');
    });
    const run = async () =>
      readToEnd(await chat(gateway, "", {}, { model: undefined, models: ["vllm/circ-a", "vllm/circ-b"] }));
    for (let i = 0; i < 3; i++) expect(await run()).toContain("upstream_interrupted");
    expect(byModel("circ-b")).toBe(3);
    seen = [];
    expect(await run()).toContain("upstream_interrupted");
    // The open circuit is skipped at once: circ-b is not asked again within its cooldown.
    expect(byModel("circ-b")).toBe(0);
    expect(byModel("circ-a")).toBe(2);
  });
});
