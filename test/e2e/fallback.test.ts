import type { ServerResponse } from "node:http";
import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type LocalGateway, startGateway } from "../support/gateway.ts";
import { MockUpstream, type ReceivedRequest, startSse } from "../support/mock-upstream.ts";
import { readToEnd } from "../support/read-to-end.ts";

/**
 * Retries, fallback chains, circuit breaking and the TTFT deadline, through the real worker and a
 * loopback upstream that fails on purpose: each test scripts what the nth request to each provider
 * gets, and reads back what the upstream saw and when.
 */
const mock = new MockUpstream();
let gateway: LocalGateway;
let hedging: LocalGateway;

/** What one upstream request gets. */
type Behaviour =
  | { readonly kind: "ok"; readonly text?: string; readonly firstTokenMs?: number }
  | {
      readonly kind: "status";
      readonly status: number;
      readonly body?: unknown;
      readonly retryAfter?: string;
    }
  | { readonly kind: "reset" }
  | { readonly kind: "silent" }
  | { readonly kind: "error-event" };

/** Per provider (`openai`, `anthropic`), the behaviour of its 1st, 2nd, ... request; the last repeats. */
let script: Record<string, Behaviour[]> = {};
/** Each request the mock saw, with its provider and arrival time. */
let seen: { provider: string; at: number; req: ReceivedRequest }[] = [];

const openAiChunk = (content: string) =>
  `data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-up","choices":[{"index":0,"delta":{"content":${JSON.stringify(content)}},"finish_reason":null}]}\n\n`;

function anthropicStream(text: string): string[] {
  const ev = (name: string, data: unknown) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
  return [
    ev("message_start", {
      type: "message_start",
      message: { id: "m1", usage: { input_tokens: 1, output_tokens: 1 } },
    }),
    ev("content_block_start", {
      type: "content_block_start",
      index: 0,
      content_block: { type: "text", text: "" },
    }),
    ev("content_block_delta", { type: "content_block_delta", index: 0, delta: { type: "text_delta", text } }),
    ev("message_delta", {
      type: "message_delta",
      delta: { stop_reason: "end_turn" },
      usage: { output_tokens: 3 },
    }),
    ev("message_stop", { type: "message_stop" }),
  ];
}

async function behave(provider: string, b: Behaviour, res: ServerResponse): Promise<void> {
  switch (b.kind) {
    case "status":
      res.writeHead(b.status, {
        "content-type": "application/json",
        ...(b.retryAfter === undefined ? {} : { "retry-after": b.retryAfter }),
      });
      res.end(JSON.stringify(b.body ?? { error: { message: `scripted ${b.status}`, type: "server_error" } }));
      return;
    case "reset":
      res.socket?.destroy();
      return;
    case "silent":
      // Never sends headers; the gateway's UPSTREAM_TIMEOUT_MS fires first.
      return;
    case "error-event":
      startSse(res);
      if (provider.startsWith("anthropic")) {
        res.end(
          'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n',
        );
      } else {
        res.end('data: {"error":{"message":"overloaded","type":"server_error"}}\n\n');
      }
      return;
    case "ok": {
      startSse(res);
      const text = b.text ?? `from ${provider}`;
      if (provider.startsWith("anthropic")) {
        const [start, block, ...rest] = anthropicStream(text);
        res.write(`${start}${block}`);
        if (b.firstTokenMs) await new Promise((r) => setTimeout(r, b.firstTokenMs));
        if (res.destroyed) return;
        res.end(rest.join(""));
      } else {
        res.write(
          'data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-up","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}\n\n',
        );
        if (b.firstTokenMs) await new Promise((r) => setTimeout(r, b.firstTokenMs));
        if (res.destroyed) return;
        res.end(
          `${openAiChunk(text)}data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-up","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n`,
        );
      }
      return;
    }
  }
}

const BINDINGS = (mockUrl: string) => ({
  OPENAI_BASE_URL: `${mockUrl}/openai/v1`,
  ANTHROPIC_BASE_URL: `${mockUrl}/anthropic`,
  OPENAI_API_KEY: "sk-e2e-openai",
  ANTHROPIC_API_KEY: "sk-ant-e2e",
  MODEL_ALIASES: JSON.stringify({ smart: ["openai/gpt-a", "anthropic/claude-b"] }),
  RETRY_BACKOFF_MS: "40",
  RETRY_AFTER_MAX_MS: "1500",
  UPSTREAM_TIMEOUT_MS: "400",
  CIRCUIT_FAILURES: "3",
  CIRCUIT_COOLDOWN_MS: "600",
  // Same-wire-format mirrors for the native routes: any Anthropic model, and one OpenAI model renamed.
  PROVIDERS: JSON.stringify([
    { name: "anthropic-eu", baseUrl: `${mockUrl}/anthropic-eu`, format: "anthropic" },
    { name: "mirror", baseUrl: `${mockUrl}/mirror/v1`, format: "openai" },
  ]),
  NATIVE_FALLBACKS: JSON.stringify({
    "anthropic/*": ["anthropic-eu/*"],
    "openai/gpt-native": ["mirror/gpt-mirror"],
  }),
});

beforeAll(async () => {
  await mock.start();
  [gateway, hedging] = await Promise.all([
    startGateway(BINDINGS(mock.baseUrl)),
    startGateway({ ...BINDINGS(mock.baseUrl), TTFT_DEADLINE_MS: "300", UPSTREAM_TIMEOUT_MS: "5000" }),
  ]);
});

afterAll(async () => {
  await Promise.all([gateway.dispose(), hedging.dispose()]);
  await mock.stop();
});

beforeEach(() => {
  script = {};
  seen = [];
  // Reinstalled each time: a test may put its own handler in place.
  mock.handle(async (req, res) => {
    const provider = req.url.split("/")[1] ?? "openai";
    const n = seen.filter((s) => s.provider === provider).length;
    seen.push({ provider, at: Date.now(), req });
    const list = script[provider] ?? [{ kind: "ok" }];
    await behave(provider, list[Math.min(n, list.length - 1)] ?? { kind: "ok" }, res);
  });
});

function chat(gw: LocalGateway, body: Record<string, unknown>, headers: Record<string, string> = {}) {
  return fetch(new URL("/v1/chat/completions", gw.url), {
    method: "POST",
    headers: { "content-type": "application/json", "x-resumable": "false", ...headers },
    body: JSON.stringify({ stream: true, messages: [{ role: "user", content: "hi" }], ...body }),
  });
}

/** The text an OpenAI-format stream carried. */
function textOf(sse: string): string {
  let text = "";
  for (const m of sse.matchAll(/^data: (\{.*\})$/gm)) {
    const chunk = JSON.parse(m[1] ?? "{}") as { choices?: { delta?: { content?: string } }[] };
    text += chunk.choices?.[0]?.delta?.content ?? "";
  }
  return text;
}

let serial = 0;
/**
 * A fresh pair of targets: circuits are per target and live in the gateway's memory, so each test
 * names its own to stay independent of the others.
 */
function pair(): { a: string; b: string; chain: Record<string, unknown> } {
  serial++;
  const a = `openai/gpt-${serial}`;
  const b = `anthropic/claude-${serial}`;
  return { a, b, chain: { model: undefined, models: [a, b] } };
}

const gaps = (provider: string) => {
  const times = seen.filter((s) => s.provider === provider).map((s) => s.at);
  return times.slice(1).map((t, i) => t - (times[i] ?? t));
};

describe("retries on the same target", () => {
  it("retries a 503 with a backoff, then answers: the client sees one clean stream", async () => {
    script.openai = [
      { kind: "status", status: 503 },
      { kind: "status", status: 503 },
      { kind: "ok", text: "third time" },
    ];
    const { a } = pair();
    const res = await chat(gateway, { model: a });
    expect(res.status).toBe(200);
    expect(textOf(await readToEnd(res))).toBe("third time");
    expect(seen.map((s) => s.provider)).toEqual(["openai", "openai", "openai"]);
    expect(res.headers.get("x-gateway-target")).toBe(a);
    expect(res.headers.get("x-gateway-attempts")).toBe("3");
    // Jittered exponential backoff from 40 ms: at least half of 40, then of 80; never a tight loop.
    const [g1 = 0, g2 = 0] = gaps("openai");
    expect(g1).toBeGreaterThanOrEqual(20);
    expect(g2).toBeGreaterThanOrEqual(40);
  });

  it("honours retry-after (seconds) before retrying the same target", async () => {
    script.openai = [{ kind: "status", status: 429, retryAfter: "1" }, { kind: "ok" }];
    const res = await chat(gateway, { model: pair().a });
    await readToEnd(res);
    expect(res.status).toBe(200);
    expect(gaps("openai")[0]).toBeGreaterThanOrEqual(950);
  });

  it("retries a reset and an error event that came before the first token", async () => {
    script.openai = [{ kind: "reset" }, { kind: "error-event" }, { kind: "ok", text: "fine" }];
    const res = await chat(gateway, { model: pair().a });
    const body = await readToEnd(res);
    expect(textOf(body)).toBe("fine");
    // Nothing of the failed attempts reached the client: one role chunk, one answer.
    expect(body.match(/"role":"assistant"/g)).toHaveLength(1);
    expect(body).not.toContain("overloaded");
    expect(seen).toHaveLength(3);
  });

  it("returns a 400 or 401 at once, in the client's format, with no retry", async () => {
    for (const status of [400, 401]) {
      seen = [];
      script.openai = [
        {
          kind: "status",
          status,
          body: { error: { message: `nope ${status}`, type: "invalid_request_error" } },
        },
      ];
      const res = await chat(gateway, pair().chain);
      expect(res.status).toBe(status);
      expect(((await res.json()) as { error: { message: string } }).error.message).toContain(
        `nope ${status}`,
      );
      expect(seen.map((s) => s.provider)).toEqual(["openai"]);
    }
  });
});

describe("fallback chains", () => {
  it("moves to the next target once the first is out of retries, and says who answered", async () => {
    script.openai = [{ kind: "status", status: 503 }];
    script.anthropic = [{ kind: "ok", text: "claude here" }];
    // The configured alias: {"smart": ["openai/gpt-a", "anthropic/claude-b"]}.
    const res = await chat(gateway, { model: "smart" });
    const body = await readToEnd(res);
    expect(textOf(body)).toBe("claude here");
    expect(seen.map((s) => s.provider)).toEqual(["openai", "openai", "openai", "anthropic"]);
    expect(res.headers.get("x-gateway-target")).toBe("anthropic/claude-b");
    expect(res.headers.get("x-gateway-attempts")).toBe("4");
    // The translated answer names the target that answered.
    expect(body).toContain('"model":"anthropic/claude-b"');
  });

  it("does not retry a target that sent no headers in time: it goes to the next one", async () => {
    script.openai = [{ kind: "silent" }];
    const res = await chat(gateway, pair().chain);
    expect(textOf(await readToEnd(res))).toBe("from anthropic");
    expect(seen.map((s) => s.provider)).toEqual(["openai", "anthropic"]);
  });

  it("sends a request too long for the first model to the next without retrying it", async () => {
    script.openai = [
      {
        kind: "status",
        status: 400,
        body: {
          error: {
            message: "maximum context length exceeded",
            type: "invalid_request_error",
            code: "context_length_exceeded",
          },
        },
      },
    ];
    const res = await chat(gateway, pair().chain);
    expect(textOf(await readToEnd(res))).toBe("from anthropic");
    expect(seen.map((s) => s.provider)).toEqual(["openai", "anthropic"]);
  });

  it("moves on at once when retry-after is longer than RETRY_AFTER_MAX_MS", async () => {
    script.openai = [{ kind: "status", status: 429, retryAfter: "30" }];
    const started = Date.now();
    const res = await chat(gateway, pair().chain);
    await readToEnd(res);
    expect(seen.map((s) => s.provider)).toEqual(["openai", "anthropic"]);
    expect((seen[1]?.at ?? 0) - started).toBeLessThan(5000);
  });

  it("takes the chain from the request's models field, never forwarding it upstream", async () => {
    script.anthropic = [{ kind: "status", status: 503 }];
    script.openai = [{ kind: "ok", text: "gpt here" }];
    const { a, b } = pair();
    const res = await chat(gateway, { model: undefined, models: [b, a] });
    expect(textOf(await readToEnd(res))).toBe("gpt here");
    const toOpenAi = seen.find((s) => s.provider === "openai");
    expect(JSON.parse(toOpenAi?.req.body ?? "{}")).not.toHaveProperty("models");
    expect(res.headers.get("x-gateway-target")).toBe(a);
  });

  it("answers every target failing with the most informative error, keeping its retry-after", async () => {
    script.openai = [{ kind: "status", status: 503 }];
    script.anthropic = [
      {
        kind: "status",
        status: 529,
        retryAfter: "20",
        body: { type: "error", error: { type: "overloaded_error", message: "Overloaded" } },
      },
    ];
    const res = await chat(gateway, pair().chain);
    expect(res.status).toBe(529);
    expect(res.headers.get("retry-after")).toBe("20");
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain("Overloaded");
  });

  it("refuses a bad models field and a chain the caller may not use, before any upstream call", async () => {
    const bad = await chat(gateway, { model: undefined, models: pair().a });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toContain('"models"');
    const { a, b } = pair();
    const mismatch = await chat(gateway, { model: a, models: [b] });
    expect(mismatch.status).toBe(400);
    expect(seen).toHaveLength(0);
  });
});

describe("circuit breaking", () => {
  it("skips a target after repeated failures, then lets one probe through after the cooldown", async () => {
    script.openai = [{ kind: "status", status: 503 }];
    const { chain } = pair();
    // Three failures on the first target open its circuit (CIRCUIT_FAILURES 3).
    await readToEnd(await chat(gateway, chain));
    seen = [];
    const skipped = await chat(gateway, chain);
    expect(textOf(await readToEnd(skipped))).toBe("from anthropic");
    expect(seen.map((s) => s.provider)).toEqual(["anthropic"]);
    await new Promise((r) => setTimeout(r, 700));
    seen = [];
    script.openai = [{ kind: "ok", text: "back" }];
    const probed = await chat(gateway, chain);
    expect(textOf(await readToEnd(probed))).toBe("back");
    expect(seen.map((s) => s.provider)).toEqual(["openai"]);
  });
});

describe("the TTFT deadline hedges", () => {
  it("starts the next target when the first token is late: the first token wins, the loser is closed", async () => {
    script.openai = [{ kind: "ok", text: "slow gpt", firstTokenMs: 3000 }];
    script.anthropic = [{ kind: "ok", text: "quick claude" }];
    const started = Date.now();
    const { b, chain } = pair();
    const res = await chat(hedging, chain);
    const body = await readToEnd(res);
    expect(textOf(body)).toBe("quick claude");
    expect(body).not.toContain("slow gpt");
    expect(Date.now() - started).toBeLessThan(2500);
    const loser = seen.find((s) => s.provider === "openai");
    await loser?.req.closed;
    expect(res.headers.get("x-gateway-target")).toBe(b);
  });

  it("an instant error frame from the hedge never wins", async () => {
    script.openai = [{ kind: "ok", text: "late but right", firstTokenMs: 600 }];
    script.anthropic = [{ kind: "error-event" }];
    const res = await chat(hedging, pair().chain);
    expect(textOf(await readToEnd(res))).toBe("late but right");
  });
});

describe("the SDK and resumable streams", () => {
  it("the official OpenAI SDK (maxRetries 0) sees one clean stream after a failover", async () => {
    script.openai = [{ kind: "reset" }];
    script.anthropic = [{ kind: "ok", text: "via claude" }];
    const client = new OpenAI({
      baseURL: new URL("/v1", gateway.url).href,
      apiKey: "placeholder",
      maxRetries: 0,
      defaultHeaders: { "x-resumable": "false" },
    });
    let text = "";
    let model = "";
    const { a, b } = pair();
    // `models` (the gateway's chain, OpenRouter's convention) is not in the SDK's types; the SDK sends
    // whatever fields the body has.
    const params = {
      model: a,
      models: [a, b],
      stream: true as const,
      messages: [{ role: "user" as const, content: "hi" }],
    };
    const stream = await client.chat.completions.create(params);
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      model = chunk.model;
    }
    expect(text).toBe("via claude");
    expect(model).toBe(b);
  });

  it("retries inside the stream's object for a resumable stream", async () => {
    script.openai = [
      { kind: "status", status: 502 },
      { kind: "ok", text: "stored" },
    ];
    const res = await chat(gateway, { model: pair().a }, { "x-resumable": "true" });
    const body = await readToEnd(res);
    expect(textOf(body)).toBe("stored");
    expect(res.headers.get("x-gateway-attempts")).toBe("2");
    const id = res.headers.get("x-stream-id");
    const replay = await readToEnd(await fetch(new URL(`/v1/streams/${id}`, gateway.url)));
    expect(textOf(replay)).toBe("stored");
    // The stream's status lists the attempts behind it: the failed one (status, code, time), then the answer.
    const status = (await (await fetch(new URL(`/v1/streams/${id}/status`, gateway.url))).json()) as {
      attempts: { target: string; outcome: string; status?: number; code?: string; ms?: number }[];
      hedged: boolean;
    };
    expect(status.hedged).toBe(false);
    expect(status.attempts).toHaveLength(2);
    expect(status.attempts[0]).toMatchObject({
      target: status.attempts[1]?.target,
      outcome: "failed",
      status: 502,
    });
    expect(status.attempts[0]?.ms).toBeGreaterThanOrEqual(0);
    expect(status.attempts[1]).toEqual({ target: expect.stringMatching(/^openai\//), outcome: "answered" });
  });

  it("retries a non-streaming request too", async () => {
    let calls = 0;
    mock.handle((req, res) => {
      calls++;
      seen.push({ provider: "openai", at: Date.now(), req });
      if (calls === 1) {
        res.writeHead(503, { "content-type": "application/json" }).end('{"error":{"message":"busy"}}');
        return;
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          id: "x",
          object: "chat.completion",
          choices: [{ index: 0, message: { role: "assistant", content: "json ok" }, finish_reason: "stop" }],
        }),
      );
    });
    const res = await chat(gateway, { model: pair().a, stream: false });
    expect(res.status).toBe(200);
    expect(JSON.stringify(await res.json())).toContain("json ok");
    expect(calls).toBe(2);
  });
});

describe("native routes fall back to the same wire format", () => {
  function messages(model: string, headers: Record<string, string> = {}) {
    return fetch(new URL("/anthropic/v1/messages", gateway.url), {
      method: "POST",
      headers: { "content-type": "application/json", "x-resumable": "false", ...headers },
      body: JSON.stringify({
        model,
        max_tokens: 64,
        stream: true,
        messages: [{ role: "user", content: "hi" }],
      }),
    });
  }

  it("retries the target, then answers from an Anthropic-format mirror with the same body", async () => {
    serial++;
    const model = `claude-native-${serial}`;
    script.anthropic = [{ kind: "status", status: 503 }];
    script["anthropic-eu"] = [{ kind: "ok", text: "from the mirror" }];
    const res = await messages(model);
    expect(res.status).toBe(200);
    const body = await readToEnd(res);
    // The client gets the mirror's own Anthropic stream, whole: one message_start, one message_stop.
    expect(body).toContain('"text":"from the mirror"');
    expect(body.match(/event: message_start/g)).toHaveLength(1);
    expect(body.match(/event: message_stop/g)).toHaveLength(1);
    expect(res.headers.get("x-gateway-target")).toBe(`anthropic-eu/${model}`);
    expect(res.headers.get("x-gateway-attempts")).toBe("4");
    expect(seen.filter((x) => x.provider === "anthropic")).toHaveLength(3);
    const mirror = seen.filter((x) => x.provider === "anthropic-eu");
    expect(mirror).toHaveLength(1);
    expect(mirror[0]?.req.url).toBe("/anthropic-eu/v1/messages");
    expect(JSON.parse(mirror[0]?.req.body ?? "{}")).toMatchObject({ model, max_tokens: 64, stream: true });
    // The mirror has no key configured: nothing of the first provider's key travels to it.
    expect(mirror[0]?.req.headers["x-api-key"]).toBeUndefined();
  });

  it("names the mirror's model when the fallback renames it, on the OpenAI route", async () => {
    script.openai = [{ kind: "status", status: 500 }];
    script.mirror = [{ kind: "ok", text: "renamed" }];
    const res = await fetch(new URL("/openai/v1/chat/completions", gateway.url), {
      method: "POST",
      headers: { "content-type": "application/json", "x-resumable": "false" },
      body: JSON.stringify({
        model: "gpt-native",
        stream: true,
        temperature: 0.3,
        messages: [{ role: "user", content: "hi" }],
      }),
    });
    expect(textOf(await readToEnd(res))).toBe("renamed");
    expect(res.headers.get("x-gateway-target")).toBe("mirror/gpt-mirror");
    const sent = seen.find((x) => x.provider === "mirror");
    expect(sent?.req.url).toBe("/mirror/v1/chat/completions");
    expect(JSON.parse(sent?.req.body ?? "{}")).toEqual({
      model: "gpt-mirror",
      stream: true,
      temperature: 0.3,
      messages: [{ role: "user", content: "hi" }],
    });
  });

  it("returns a 400 at once in Anthropic's shape: a client error is never routed around", async () => {
    serial++;
    script.anthropic = [
      {
        kind: "status",
        status: 400,
        body: { type: "error", error: { type: "invalid_request_error", message: "bad field" } },
      },
    ];
    const res = await messages(`claude-native-${serial}`);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      type: "error",
      error: { type: "invalid_request_error", message: expect.stringContaining("bad field") },
    });
    expect(seen.map((x) => x.provider)).toEqual(["anthropic"]);
  });

  it("has no fallback for a model no key matches", async () => {
    script.openai = [{ kind: "status", status: 503 }];
    const res = await fetch(new URL("/openai/v1/chat/completions", gateway.url), {
      method: "POST",
      headers: { "content-type": "application/json", "x-resumable": "false" },
      body: JSON.stringify({
        model: `gpt-alone-${++serial}`,
        stream: true,
        messages: [{ role: "user", content: "hi" }],
      }),
    });
    expect(res.status).toBe(503);
    expect(seen.map((x) => x.provider)).toEqual(["openai", "openai", "openai"]);
  });
});
