import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalGateway, startGateway } from "../support/gateway.ts";
import { MockUpstream, startSse } from "../support/mock-upstream.ts";
import { readToEnd } from "../support/read-to-end.ts";
import { leaks, reassemble, splitEvents, stripIds } from "./guardrail-support.ts";

/**
 * How an answer ends, through the real worker: at its end marker (even when the upstream holds its
 * connection), at a guardrail block (even when the upstream never stops), and at a cut (never as a
 * broken event the official SDKs choke on).
 */
const mock = new MockUpstream();
let gateway: LocalGateway;

beforeAll(async () => {
  await mock.start();
  gateway = await startGateway({
    OPENAI_BASE_URL: `${mock.baseUrl}/openai/v1`,
    ANTHROPIC_BASE_URL: `${mock.baseUrl}/anthropic`,
    OPENAI_API_KEY: "sk-e2e-openai",
    ANTHROPIC_API_KEY: "sk-ant-e2e",
    GUARDRAIL_RULES: JSON.stringify({ builtins: { payment_card: "block" } }),
    // The demo provider at a pace that would take seconds to finish by itself.
    DEMO_FIRST_TOKEN_MS: "0",
    DEMO_TOKEN_INTERVAL_MS: "50",
  });
});

afterAll(async () => {
  await gateway.dispose();
  await mock.stop();
});

function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(new URL(path, gateway.url), {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

interface Status {
  state: string;
  finishedAt: string | null;
  detail: string | null;
}

async function status(id: string | null): Promise<Status> {
  return (await (await fetch(new URL(`/v1/streams/${id}/status`, gateway.url))).json()) as Status;
}

/** `data:` payloads of an SSE text, in order. */
function dataOf(text: string): string[] {
  return [...text.matchAll(/^data: (.*)$/gm)].map((m) => m[1] ?? "");
}

describe("a guardrail block ends the answer although the upstream keeps going", () => {
  const request = {
    model: "demo/pii",
    stream: true,
    messages: [{ role: "user", content: "my details" }],
  };

  it("closes a resumable stream right after the block: state blocked, finished, detail naming the rule", async () => {
    const res = await post("/v1/chat/completions", request);
    const text = await readToEnd(res);
    const data = dataOf(text);
    // The answer's text, not the raw stream: a chunk's `created` (Unix seconds) may hold these digits.
    const answer = reassemble(splitEvents(stripIds(text))).channels.get("c0/content") ?? "";
    expect(answer).toContain("The test card is");
    expect(answer).not.toMatch(/4242|4111|5555/);
    expect(leaks(text, ["4242 4242 4242 4242"])).toEqual([]);
    expect(data.at(-1)).toBe("[DONE]");
    expect(JSON.parse(data.at(-2) ?? "")).toMatchObject({ choices: [{ finish_reason: "content_filter" }] });
    const s = await status(res.headers.get("x-stream-id"));
    expect(s.state).toBe("blocked");
    expect(s.finishedAt).not.toBeNull();
    expect(s.detail).toMatch(/^guardrail_blocked: .*"payment_card"/);
  });

  it("closes a direct stream cleanly: the OpenAI SDK reads to the end without an error", async () => {
    const client = new OpenAI({
      baseURL: new URL("/v1", gateway.url).href,
      apiKey: "placeholder",
      maxRetries: 0,
      defaultHeaders: { "x-resumable": "false" },
    });
    const stream = await client.chat.completions.create({
      model: "demo/pii",
      stream: true,
      messages: [{ role: "user", content: "my details" }],
    });
    let text = "";
    let finish: string | null = null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(finish).toBe("content_filter");
    expect(text).not.toMatch(/4242|4111|5555/);
  });
});

describe("the end marker ends the answer although the upstream holds its connection", () => {
  const cases = [
    {
      name: "OpenAI chat",
      path: "/openai/v1/chat/completions",
      body: { model: "gpt", stream: true },
      events: ['data: {"choices":[{"index":0,"delta":{"content":"Hi"}}]}\n\n', "data: [DONE]\n\n"],
    },
    {
      name: "OpenAI Responses",
      path: "/openai/v1/responses",
      body: { model: "o3", stream: true },
      events: [
        'event: response.output_text.delta\ndata: {"type":"response.output_text.delta","output_index":0,"content_index":0,"delta":"Hi"}\n\n',
        'event: response.completed\ndata: {"type":"response.completed","response":{"status":"completed"}}\n\n',
      ],
    },
    {
      name: "Anthropic",
      path: "/anthropic/v1/messages",
      body: { model: "claude", stream: true, max_tokens: 9 },
      events: [
        'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}\n\n',
        'event: message_stop\ndata: {"type":"message_stop"}\n\n',
      ],
    },
    {
      name: "unified (Anthropic upstream)",
      path: "/v1/chat/completions",
      body: { model: "anthropic/claude", stream: true, messages: [{ role: "user", content: "hi" }] },
      events: [
        'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_1","usage":{"input_tokens":1,"output_tokens":1}}}\n\n',
        'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n\n',
        'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}\n\n',
        'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":2}}\n\n',
        'event: message_stop\ndata: {"type":"message_stop"}\n\n',
      ],
    },
  ];
  for (const c of cases) {
    for (const resumable of [false, true]) {
      it(`${c.name}, ${resumable ? "resumable" : "direct"}: closes after the marker and releases the upstream`, async () => {
        const before = mock.requests.length;
        let upstreamEnded = false;
        mock.handle((_req, res) => {
          startSse(res);
          for (const e of c.events) res.write(e);
          // Holds the connection open far longer than the test waits; the gateway must not wait for it.
          const t = setTimeout(() => {
            upstreamEnded = true;
            res.end();
          }, 20_000);
          res.on("close", () => clearTimeout(t));
        });
        const res = await post(c.path, c.body, { "x-resumable": String(resumable) });
        const text = await readToEnd(res, 10_000);
        expect(text).toContain("Hi");
        expect(text).toMatch(/: timings [^\n]*\n(id: \d+\n)?\n$/);
        // The gateway hung up on the upstream; it did not end by itself.
        await mock.requests[before]?.closed;
        expect(upstreamEnded).toBe(false);
        if (resumable) {
          const s = await status(res.headers.get("x-stream-id"));
          expect(s).toMatchObject({ state: "complete", detail: null });
        }
      });
    }
  }
});

describe("a cut in the middle of an event ends with the gateway's error, never a broken event", () => {
  /** Writes `whole` events, then half of one more, then drops the connection. */
  function cutAfter(whole: readonly string[], fragment: string): void {
    mock.handle((_req, res) => {
      startSse(res);
      for (const e of whole) res.write(e);
      res.write(fragment);
      setTimeout(() => res.socket?.destroy(), 20);
    });
  }

  for (const resumable of [false, true]) {
    const mode = resumable ? "resumable" : "direct";
    it(`OpenAI SDK on the native route (${mode}) raises the gateway's upstream_interrupted error`, async () => {
      cutAfter(
        ['data: {"id":"chatcmpl-1","choices":[{"index":0,"delta":{"content":"Hel"}}]}\n\n'],
        'data: {"id":"chatcmpl-1","model":"gpt-',
      );
      const client = new OpenAI({
        baseURL: new URL("/openai/v1", gateway.url).href,
        apiKey: "placeholder",
        maxRetries: 0,
        defaultHeaders: { "x-resumable": String(resumable) },
      });
      const stream = await client.chat.completions.create({
        model: "gpt",
        stream: true,
        messages: [{ role: "user", content: "hi" }],
      });
      let text = "";
      const error = await (async () => {
        try {
          for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
        } catch (err) {
          return err;
        }
        return undefined;
      })();
      expect(text).toBe("Hel");
      expect(error).toBeInstanceOf(OpenAI.APIError);
      expect(error).not.toBeInstanceOf(SyntaxError);
      expect(String((error as Error).message)).toContain("the upstream connection failed");
    });

    it(`Anthropic SDK on the native route (${mode}) raises the gateway's error`, async () => {
      cutAfter(
        [
          'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"model":"claude","stop_reason":null,"usage":{"input_tokens":1,"output_tokens":1}}}\n\n',
          'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n\n',
          'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hel"}}\n\n',
        ],
        'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"te',
      );
      const client = new Anthropic({
        baseURL: new URL("/anthropic", gateway.url).href,
        apiKey: "placeholder",
        maxRetries: 0,
        defaultHeaders: { "x-resumable": String(resumable) },
      });
      const stream = client.messages.stream({
        model: "claude",
        max_tokens: 9,
        messages: [{ role: "user", content: "hi" }],
      });
      let text = "";
      stream.on("text", (t) => {
        text += t;
      });
      const error = await stream.done().then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(text).toBe("Hel");
      expect(error).toBeInstanceOf(Anthropic.APIError);
      expect(error).not.toBeInstanceOf(SyntaxError);
      expect(String((error as Error).message)).toContain("the upstream connection failed");
    });
  }

  it("records why an interrupted stream ended in its status", async () => {
    cutAfter(['data: {"choices":[{"index":0,"delta":{"content":"Hel"}}]}\n\n'], 'data: {"choi');
    const res = await post("/openai/v1/chat/completions", { model: "gpt", stream: true });
    const text = await readToEnd(res);
    expect(text).not.toContain('{"choi\n');
    const s = await status(res.headers.get("x-stream-id"));
    expect(s.state).toBe("interrupted");
    expect(s.detail).toBe(
      "upstream_interrupted: the upstream connection failed before the response was complete",
    );
  });

  it("records an upstream's own error as the reason", async () => {
    mock.handle((_req, res) => {
      startSse(res);
      // After the first token: an error before it would be retried (test/e2e/fallback.test.ts).
      res.end(
        'data: {"choices":[{"index":0,"delta":{"content":"Hel"}}]}\n\ndata: {"error":{"message":"model overloaded","type":"server_error"}}\n\n',
      );
    });
    const res = await post("/openai/v1/chat/completions", { model: "gpt", stream: true });
    await readToEnd(res);
    const s = await status(res.headers.get("x-stream-id"));
    expect(s).toMatchObject({ state: "interrupted", detail: "upstream_error: model overloaded" });
  });
});

describe("ends that are honest but not too strict", () => {
  const chunk = (delta: object, finish: string | null = null) =>
    `data: ${JSON.stringify({ id: "c9", object: "chat.completion.chunk", created: 1, model: "m", choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;

  for (const resumable of [false, true]) {
    const mode = resumable ? "resumable" : "direct";
    it(`completes a stream whose choice finished but which closed without [DONE], appending it (${mode})`, async () => {
      mock.handle((_req, res) => {
        startSse(res);
        res.end(
          chunk({ role: "assistant", content: "" }) + chunk({ content: "all here" }) + chunk({}, "stop"),
        );
      });
      const client = new OpenAI({
        baseURL: new URL("/openai/v1", gateway.url).href,
        apiKey: "unused",
        maxRetries: 0,
        defaultHeaders: { "x-resumable": String(resumable) },
      });
      let text = "";
      const stream = await client.chat.completions.create({ model: "gpt-x", stream: true, messages: [] });
      for await (const c of stream) text += c.choices[0]?.delta.content ?? "";
      expect(text).toBe("all here");
      const raw = await readToEnd(
        await post(
          "/openai/v1/chat/completions",
          { model: "gpt-x", stream: true, messages: [] },
          { "x-resumable": String(resumable) },
        ),
      );
      const data = dataOf(raw);
      expect(data.at(-1)).toBe("[DONE]");
      expect(raw).not.toContain("upstream_interrupted");
    });
  }

  it("still calls a stream cut before its finish reason interrupted", async () => {
    mock.handle((_req, res) => {
      startSse(res);
      res.end(chunk({ role: "assistant", content: "" }) + chunk({ content: "half" }));
    });
    const raw = await readToEnd(
      await post(
        "/openai/v1/chat/completions",
        { model: "gpt-x", stream: true, messages: [] },
        { "x-resumable": "false" },
      ),
    );
    expect(raw).toContain("upstream_interrupted");
    expect(dataOf(raw)).not.toContain("[DONE]");
  });

  it("skips an event that is not JSON on the unified endpoint; a native route stays transparent", async () => {
    mock.handle((_req, res) => {
      startSse(res);
      res.end(
        `${chunk({ role: "assistant", content: "" })}${chunk({ content: "before " })}data: <html>rewritten by a proxy</html>\n\n${chunk({ content: "after" })}${chunk({}, "stop")}data: [DONE]\n\n`,
      );
    });
    const client = new OpenAI({ baseURL: new URL("/v1", gateway.url).href, apiKey: "unused", maxRetries: 0 });
    let text = "";
    const stream = await client.chat.completions.create(
      { model: "openai/gpt-x", stream: true, messages: [{ role: "user", content: "hi" }] },
      { headers: { "x-resumable": "false" } },
    );
    for await (const c of stream) text += c.choices[0]?.delta.content ?? "";
    // The SDK would have thrown on the garbage; the count is in the data point (test/workers/analytics.test.ts).
    expect(text).toBe("before after");
    const native = await readToEnd(
      await post(
        "/openai/v1/chat/completions",
        { model: "gpt-x", stream: true, messages: [] },
        { "x-resumable": "false" },
      ),
    );
    expect(native).toContain("data: <html>rewritten by a proxy</html>");
  });
});
