import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixtureNames, randomSplits, readFixture } from "../support/fixtures.ts";
import { type LocalGateway, startGateway } from "../support/gateway.ts";
import { MockUpstream, startSse, writeChunks } from "../support/mock-upstream.ts";
import { withoutTimings } from "../support/timings.ts";

const mock = new MockUpstream();
let gateway: LocalGateway;

beforeAll(async () => {
  await mock.start();
  gateway = await startGateway({
    OPENAI_BASE_URL: `${mock.baseUrl}/openai/v1`,
    ANTHROPIC_BASE_URL: `${mock.baseUrl}/anthropic`,
    GEMINI_BASE_URL: `${mock.baseUrl}/gemini`,
    OPENAI_API_KEY: "sk-e2e-openai",
    ANTHROPIC_API_KEY: "sk-ant-e2e",
    GEMINI_API_KEY: "AIza-e2e",
    UPSTREAM_TIMEOUT_MS: "1000",
  });
});

afterAll(async () => {
  await gateway.dispose();
  await mock.stop();
});

/** Native route and body for a fixture, by the API family its folder records. */
function routeFor(name: string): { path: string; body: unknown } {
  if (name.startsWith("anthropic/"))
    return { path: "/anthropic/v1/messages", body: { model: "claude", stream: true } };
  if (name.startsWith("gemini/"))
    return { path: "/gemini/v1beta/models/gemini-2.5-flash:streamGenerateContent", body: {} };
  if (name.startsWith("openai/responses-"))
    return { path: "/openai/v1/responses", body: { model: "o3", stream: true } };
  return { path: "/openai/v1/chat/completions", body: { model: "gpt", stream: true } };
}

function post(path: string, body: unknown, signal?: AbortSignal, resumable = false): Promise<Response> {
  return fetch(new URL(path, gateway.url), {
    method: "POST",
    // Plain passthrough unless a test is about resumable streams (which add `id:` lines).
    headers: { "content-type": "application/json", "x-resumable": String(resumable) },
    body: JSON.stringify(body),
    ...(signal ? { signal } : {}),
  });
}

const decoder = new TextDecoder();

/**
 * What the client must receive for a fixture: its exact bytes, with a final block that lacked its
 * blank line completed (every SSE client would drop it otherwise), plus the gateway's in-band error
 * where the upstream ended without a finish the client could see.
 */
function expectedFor(bytes: Uint8Array): string {
  const text = decoder.decode(bytes);
  if (/(\r\n\r\n|\n\n|\r\r)$/.test(text)) return text;
  if (text.endsWith("\r\n")) return `${text}\r\n`;
  if (text.endsWith("\n")) return `${text}\n`;
  return `${text}\n\n`;
}

describe("every recorded provider stream passes through unchanged", () => {
  for (const name of fixtureNames()) {
    it(`forwards ${name} byte for byte, split at random across the network`, async () => {
      const bytes = readFixture(name);
      const pieces = randomSplits(bytes, name.length * 7919, 12);
      mock.handle(async (_req, res) => {
        startSse(res);
        await writeChunks(res, pieces, 1);
      });
      const { path, body } = routeFor(name);
      const res = await post(path, body);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
      const received = withoutTimings(await res.text());
      const expected = expectedFor(bytes);
      if (name === "gemini/stream-error-mid-stream.sse") {
        // Google writes its error object into the stream without SSE framing, so every client would
        // ignore it: the gateway re-frames it as a data event carrying the upstream's own message.
        expect(received.startsWith(decoder.decode(bytes))).toBe(true);
        const tail = received.slice(decoder.decode(bytes).length);
        expect(tail).toMatch(/^\n?data: \{"error":\{.*"message":"[^"]*cancelled[^"]*".*\}\}(\r\n\r\n|\n\n)$/);
      } else {
        expect(received).toBe(expected);
      }
    });
  }
});

/** Removes the `id: N` lines the resumable store adds, returning the ids in order. */
function stripIds(text: string): { text: string; ids: number[] } {
  const ids: number[] = [];
  const stripped = text.replace(/^id: (\d+)(\r\n|\r|\n)/gm, (_m, id: string) => {
    ids.push(Number(id));
    return "";
  });
  return { text: stripped, ids };
}

describe("resumable streams add only an id line to each event", () => {
  for (const name of [
    "openai/chat-text-include-usage.sse",
    "anthropic/messages-thinking-then-text-118-events.sse",
    "gemini/stream-basic-long-crlf.sse",
    "openrouter/keepalive-comments-error-chunk.sse",
  ]) {
    it(`numbers every event of ${name} 1, 2, 3... and changes nothing else`, async () => {
      const bytes = readFixture(name);
      mock.handle(async (_req, res) => {
        startSse(res);
        await writeChunks(res, randomSplits(bytes, 3, 8), 1);
      });
      const { path, body } = routeFor(name);
      const res = await post(path, body, undefined, true);
      expect(res.headers.get("x-stream-id")).toMatch(/^[a-z0-9]{1,8}-\d{1,4}\.[A-Za-z0-9_-]{22}$/); // `<host>.<128 random bits>`
      const { text, ids } = stripIds(withoutTimings(await res.text()));
      expect(text).toBe(expectedFor(bytes));
      expect(ids).toEqual(ids.map((_id, i) => i + 1));
      expect(ids.length).toBeGreaterThan(3);
    });
  }
});

describe("the streaming contract", () => {
  it("delivers each event while the upstream is still waiting to send the next", async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    mock.handle(async (_req, res) => {
      startSse(res);
      res.write('data: {"choices":[{"index":0,"delta":{"content":"first"}}]}\n\n');
      await gate; // the upstream sends nothing more until the client has seen the first event
      await writeChunks(res, [
        'data: {"choices":[{"index":0,"delta":{"content":"second"}}]}\n\n',
        "data: [DONE]\n\n",
      ]);
    });
    const res = await post("/openai/v1/chat/completions", { model: "gpt", stream: true });
    const reader = res.body?.getReader();
    if (reader === undefined) throw new Error("no body");
    const first = decoder.decode((await reader.read()).value);
    expect(first).toContain("first");
    expect(first).not.toContain("second");
    release();
    let rest = "";
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      rest += decoder.decode(value);
    }
    expect(rest).toContain("second");
    expect(withoutTimings(rest).endsWith("data: [DONE]\n\n")).toBe(true);
  });

  it("cancels the upstream request when the client disconnects", async () => {
    let sent = 0;
    mock.handle(async (_req, res) => {
      startSse(res);
      // A long generation: 500 tokens, 20 ms apart (10 s). Only the gateway's cancellation ends it early.
      for (; sent < 500 && !res.destroyed; sent++) {
        res.write(`data: {"choices":[{"index":0,"delta":{"content":"t${sent} "}}]}\n\n`);
        await new Promise((r) => setTimeout(r, 20));
      }
      res.end();
    });
    const abort = new AbortController();
    const res = await post("/openai/v1/chat/completions", { model: "gpt", stream: true }, abort.signal);
    await res.body?.getReader().read();
    const upstream = mock.requests.at(-1);
    abort.abort();
    await upstream?.closed;
    expect(sent).toBeLessThan(100);
  });

  const drops: { family: string; path: string; body: unknown; prefix: string; error: RegExp }[] = [
    {
      family: "OpenAI",
      path: "/openai/v1/chat/completions",
      body: { model: "gpt", stream: true },
      prefix: 'data: {"choices":[{"index":0,"delta":{"content":"par"}}]}\n\n',
      error:
        /^data: \{"error":\{"message":"the upstream (connection failed|stream ended)[^"]*","type":"server_error","param":null,"code":"upstream_interrupted"\}\}\n\n$/,
    },
    {
      family: "Anthropic",
      path: "/anthropic/v1/messages",
      body: { model: "claude", stream: true },
      prefix:
        'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"par"}}\n\n',
      error:
        /^event: error\ndata: \{"type":"error","error":\{"type":"[a-z_]+","message":"the upstream[^"]*"\}\}\n\n$/,
    },
    {
      family: "Gemini",
      path: "/gemini/v1beta/models/g:streamGenerateContent",
      body: {},
      prefix: 'data: {"candidates":[{"content":{"parts":[{"text":"par"}],"role":"model"}}]}\r\n\r\n',
      // Gemini frames its stream with CRLF, and so does the gateway's error event in it.
      error: /^data: \{"error":\{"code":\d+,"message":"the upstream[^"]*","status":"[A-Z_]+"\}\}\r\n\r\n$/,
    },
  ];
  for (const d of drops) {
    for (const how of ["drops the connection", "ends without finishing"] as const) {
      it(`ends a ${d.family} stream whose upstream ${how} with an in-band error, never a clean end`, async () => {
        mock.handle(async (_req, res) => {
          startSse(res);
          res.write(d.prefix);
          await new Promise((r) => setTimeout(r, 20));
          if (how === "drops the connection") res.socket?.destroy();
          else res.end();
        });
        const res = await post(d.path, d.body);
        expect(res.status).toBe(200);
        const text = withoutTimings(await res.text());
        expect(text.startsWith(d.prefix)).toBe(true);
        expect(text.slice(d.prefix.length)).toMatch(d.error);
      });
    }
  }

  it("passes a non-streaming JSON answer through with its status", async () => {
    const answer = '{"id":"chatcmpl-1","object":"chat.completion","choices":[],"extra_field":true}';
    mock.handle((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" }).end(answer);
    });
    const res = await post("/openai/v1/chat/completions", { model: "gpt", stream: false });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(answer);
  });

  it("answers 504 in the provider's shape when the upstream sends no headers in time", async () => {
    mock.handle(() => {
      // Never answer: the gateway's UPSTREAM_TIMEOUT_MS (1 s here) must fire.
    });
    const res = await post("/anthropic/v1/messages", { model: "claude", stream: true });
    expect(res.status).toBe(504);
    const body = (await res.json()) as { type: string; error: { message: string } };
    expect(body.type).toBe("error");
    expect(body.error.message).toMatch(/did not answer within 1000 ms/);
  });

  it("answers 502 when the upstream cannot be reached", async () => {
    const closed = await startGateway({ OPENAI_BASE_URL: "http://127.0.0.1:9/v1", OPENAI_API_KEY: "sk-x" });
    try {
      const res = await fetch(new URL("/openai/v1/chat/completions", closed.url), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: '{"model":"gpt","stream":true}',
      });
      expect(res.status).toBe(502);
      const body = (await res.json()) as { error: { message: string; code: string } };
      expect(body.error.code).toBe("upstream_unreachable");
      expect(body.error.message).toBe('could not connect to provider "openai"');
    } finally {
      await closed.dispose();
    }
  });
});
