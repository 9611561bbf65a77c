import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signJwt } from "../../src/auth/jwt.ts";
import { type LocalGateway, startGateway } from "../support/gateway.ts";
import { MockUpstream, startSse } from "../support/mock-upstream.ts";
import { until } from "../support/until.ts";

const KEY = "gw-backend-key-0123456789abcdef";
const JWT_SECRET = "jwt-secret-for-tests-0123456789-abcdefgh";
const PROVIDER_KEY = "sk-ant-provider-secret-0123456789";

const mock = new MockUpstream();
let closed: LocalGateway; // nothing configured, anonymous off: secure by default
let keyed: LocalGateway; // gateway keys, browser tokens, anonymous for demo/* only, strict rate limit

beforeAll(async () => {
  await mock.start();
  mock.handle(async (_req, res) => {
    startSse(res);
    res.end(
      'event: message_start\ndata: {"type":"message_start","message":{"id":"m","role":"assistant","content":[],"usage":{"input_tokens":1}}}\n\n' +
        'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n\n' +
        'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"hello"}}\n\n' +
        'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n' +
        'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":1}}\n\n' +
        'event: message_stop\ndata: {"type":"message_stop"}\n\n',
    );
  });
  [closed, keyed] = await Promise.all([
    startGateway({
      ALLOW_ANONYMOUS: "false",
      ANONYMOUS_MODELS: "demo/*",
      DEMO_FIRST_TOKEN_MS: "0",
      DEMO_TOKEN_INTERVAL_MS: "0",
    }),
    startGateway(
      {
        ALLOW_ANONYMOUS: "true",
        ANONYMOUS_MODELS: "demo/*",
        GATEWAY_KEYS: JSON.stringify([{ name: "backend", key: KEY }]),
        GATEWAY_JWT_SECRET: JWT_SECRET,
        ANTHROPIC_BASE_URL: `${mock.baseUrl}/anthropic`,
        ANTHROPIC_API_KEY: PROVIDER_KEY,
        DEMO_FIRST_TOKEN_MS: "0",
        DEMO_TOKEN_INTERVAL_MS: "0",
        RATE_LIMIT_PERIOD_SECONDS: "60",
      },
      { RATE_LIMIT_ANONYMOUS: { limit: 3, period: 60 } },
    ),
  ]);
});

afterAll(async () => {
  await Promise.all([closed.dispose(), keyed.dispose()]);
  await mock.stop();
});

function chat(g: LocalGateway, model: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(new URL("/v1/chat/completions", g.url), {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ model, stream: true, messages: [{ role: "user", content: "hi" }] }),
  });
}

async function errorOf(res: Response): Promise<string> {
  const text = await res.text();
  expect(text).not.toContain(KEY);
  expect(text).not.toContain(PROVIDER_KEY);
  expect(text).not.toContain(JWT_SECRET);
  return (JSON.parse(text) as { error: { message: string } }).error.message;
}

const now = () => Math.floor(Date.now() / 1000);

describe("who may call", () => {
  it("a gateway with nothing configured refuses every request, saying what the operator must set", async () => {
    const res = await chat(closed, "demo/story");
    expect(res.status).toBe(401);
    expect(await errorOf(res)).toMatch(/GATEWAY_KEYS|GATEWAY_JWT_SECRET/);
  });

  it("accepts a gateway key as Authorization: Bearer, x-api-key or x-goog-api-key", async () => {
    const variants: Record<string, string>[] = [
      { authorization: `Bearer ${KEY}` },
      { "x-api-key": KEY },
      { "x-goog-api-key": KEY },
    ];
    for (const headers of variants) {
      const res = await chat(keyed, "anthropic/claude", headers);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('"content":"hello"');
    }
  });

  it("lets the official SDKs use a gateway key as their API key, and never forwards it upstream", async () => {
    const openai = new OpenAI({ baseURL: new URL("/v1", keyed.url).href, apiKey: KEY, maxRetries: 0 });
    const completion = await openai.chat.completions.create({
      model: "anthropic/claude",
      messages: [{ role: "user", content: "x" }],
      stream: true,
    });
    let text = "";
    for await (const c of completion) text += c.choices[0]?.delta.content ?? "";
    expect(text).toBe("hello");
    const anthropic = new Anthropic({
      baseURL: new URL("/anthropic", keyed.url).href,
      apiKey: KEY,
      maxRetries: 0,
    });
    const message = await anthropic.messages.create({
      model: "claude",
      max_tokens: 10,
      stream: true,
      messages: [{ role: "user", content: "x" }],
    });
    for await (const _event of message) {
      // drain
    }
    const upstream = mock.requests.at(-1);
    expect(upstream?.headers["x-api-key"]).toBe(PROVIDER_KEY);
    expect(JSON.stringify(upstream?.headers)).not.toContain(KEY);
  });

  it("refuses a wrong gateway key with 401", async () => {
    const res = await chat(keyed, "anthropic/claude", { authorization: "Bearer not-the-key-0123456789" });
    expect(res.status).toBe(401);
    await errorOf(res);
  });

  it("accepts a browser token, and refuses expired, tampered or wrongly signed ones with 401", async () => {
    const good = await signJwt({ sub: "alice", exp: now() + 600 }, JWT_SECRET);
    expect((await chat(keyed, "anthropic/claude", { authorization: `Bearer ${good}` })).status).toBe(200);
    const expired = await signJwt({ sub: "alice", exp: now() - 600 }, JWT_SECRET);
    const tampered = `${good.slice(0, -4)}AAAA`;
    const wrong = await signJwt({ sub: "alice", exp: now() + 600 }, "another-secret-0123456789-abcdefghijkl");
    for (const [token, reason] of [
      [expired, /expired/],
      [tampered, /signature/],
      [wrong, /signature/],
    ] as const) {
      const res = await chat(keyed, "anthropic/claude", { authorization: `Bearer ${token}` });
      expect(res.status).toBe(401);
      expect(await errorOf(res)).toMatch(reason);
    }
  });

  it("limits a browser token to its allowed models (403 naming the model)", async () => {
    const token = await signJwt({ sub: "bob", exp: now() + 600, models: ["demo/*"] }, JWT_SECRET);
    expect((await chat(keyed, "demo/echo", { authorization: `Bearer ${token}` })).status).toBe(200);
    const res = await chat(keyed, "anthropic/claude", { authorization: `Bearer ${token}` });
    expect(res.status).toBe(403);
    expect(await errorOf(res)).toMatch(/anthropic\/claude/);
  });

  it("allows anonymous callers only the models configured for them", async () => {
    const res = await chat(keyed, "anthropic/claude");
    expect(res.status).toBe(403);
    expect(await errorOf(res)).toMatch(/anthropic\/claude/);
  });

  it("answers 429 with retry-after in the caller's format once a principal exceeds its rate", async () => {
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 6; i++) {
      last = await fetch(new URL("/anthropic/v1/messages", keyed.url), {
        method: "POST",
        headers: { "content-type": "application/json", "cf-connecting-ip": "203.0.113.9" },
        body: JSON.stringify({ model: "x", max_tokens: 1, messages: [] }),
      });
      statuses.push(last.status);
      if (last.status === 429) break;
    }
    expect(statuses).toContain(429);
    expect(last?.headers.get("retry-after")).toBe("60");
    const body = (await last?.json()) as { type: string; error: { type: string } };
    expect(body).toMatchObject({ type: "error", error: { type: "rate_limit_error" } });
  });
});

describe("open streams per principal", () => {
  it("refuses a principal's stream beyond MAX_OPEN_STREAMS with 429, until one of its streams ends", async () => {
    // Demo answers that take 20 s to start stay open for the whole test.
    const limited = await startGateway({
      GATEWAY_KEYS: JSON.stringify([
        { name: "one", key: `${KEY}-one` },
        { name: "two", key: `${KEY}-two` },
      ]),
      MAX_OPEN_STREAMS: "2",
      DEMO_FIRST_TOKEN_MS: "20000",
    });
    try {
      const one = { authorization: `Bearer ${KEY}-one` };
      const open = [await chat(limited, "demo/story", one), await chat(limited, "demo/story", one)];
      for (const r of open) expect(r.status).toBe(200);
      const refused = await chat(limited, "demo/story", one);
      expect(refused.status).toBe(429);
      expect(refused.headers.get("retry-after")).not.toBeNull();
      expect(await errorOf(refused)).toMatch(/2 open streams|open streams/);
      // Another principal is not affected.
      const other = await chat(limited, "demo/story", { authorization: `Bearer ${KEY}-two` });
      expect(other.status).toBe(200);
      await other.body?.cancel();
      // Cancelling one stream frees its slot.
      const id = open[0]?.headers.get("x-stream-id") ?? "";
      await fetch(new URL(`/v1/streams/${id}`, limited.url), { method: "DELETE", headers: one });
      let again = 0;
      for (let i = 0; i < 50 && again !== 200; i++) {
        const r = await chat(limited, "demo/story", one);
        again = r.status;
        await r.body?.cancel();
        if (again !== 200) await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(again).toBe(200);
      for (const r of open) await r.body?.cancel();
    } finally {
      await limited.dispose();
    }
  });

  it("stops a refused stream's upstream call, which started alongside the slot's check, resumable or not", async () => {
    // The slot is asked for while the attempt starts (its round trip is not added to TTFT): a stream
    // refused its slot must not go on upstream. The mock holds every answer open after its first token.
    const held = new MockUpstream();
    await held.start();
    let finish = () => {};
    const done = new Promise<void>((resolve) => {
      finish = resolve;
    });
    held.handle(async (_req, res) => {
      startSse(res);
      res.write(
        'event: message_start\ndata: {"type":"message_start","message":{"id":"m","role":"assistant","content":[],"usage":{"input_tokens":1}}}\n\n' +
          'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"hi"}}\n\n',
      );
      await done;
      res.end();
    });
    const limited = await startGateway({
      GATEWAY_KEYS: JSON.stringify([{ name: "one", key: `${KEY}-one` }]),
      MAX_OPEN_STREAMS: "1",
      ANTHROPIC_BASE_URL: `${held.baseUrl}/anthropic`,
      ANTHROPIC_API_KEY: PROVIDER_KEY,
    });
    const one = { authorization: `Bearer ${KEY}-one` };
    try {
      const open = await chat(limited, "anthropic/claude-test", one);
      expect(open.status).toBe(200);
      for (const headers of [one, { ...one, "x-resumable": "false" }]) {
        const before = held.requests.length;
        const refused = await chat(limited, "anthropic/claude-test", headers);
        expect(refused.status).toBe(429);
        expect(refused.headers.get("content-type")).toMatch(/json/);
        expect(await errorOf(refused)).toMatch(/open streams/);
        // Its upstream call was made (alongside the check) and is then closed by the gateway, not left running.
        await until("the refused stream's upstream request", () => held.requests.length > before);
        expect(held.requests.length).toBe(before + 1);
        await held.requests[before]?.closed;
      }
      // The stream that holds the slot was never disturbed: it still ends with its whole answer.
      finish();
      expect(await open.text()).toContain("hi");
    } finally {
      finish();
      await limited.dispose();
      await held.stop();
    }
  });
});

describe("stream isolation", () => {
  it("lets only the principal that created a stream resume, read status or cancel it (others get 404)", async () => {
    const alice = await signJwt({ sub: "alice", exp: now() + 600 }, JWT_SECRET);
    const mallory = await signJwt({ sub: "mallory", exp: now() + 600 }, JWT_SECRET);
    const res = await chat(keyed, "demo/story", { authorization: `Bearer ${alice}` });
    const id = res.headers.get("x-stream-id") ?? "";
    await res.text();
    const as = (token: string, path: string, method = "GET") =>
      fetch(new URL(path, keyed.url), { method, headers: { authorization: `Bearer ${token}` } });
    for (const [path, method] of [
      [`/v1/streams/${id}`, "GET"],
      [`/v1/streams/${id}/status`, "GET"],
      [`/v1/streams/${id}`, "DELETE"],
    ] as const) {
      const other = await as(mallory, path, method);
      expect(other.status).toBe(404);
      expect(await errorOf(other)).toMatch(/no stream with this id/);
    }
    expect((await as(alice, `/v1/streams/${id}/status`)).status).toBe(200);
    expect((await as(alice, `/v1/streams/${id}`)).status).toBe(200);
  });

  it("returns a resume token that lets a header-less EventSource resume, and only that stream", async () => {
    const alice = await signJwt({ sub: "alice", exp: now() + 600 }, JWT_SECRET);
    const res = await chat(keyed, "demo/story", { authorization: `Bearer ${alice}` });
    const id = res.headers.get("x-stream-id") ?? "";
    const token = res.headers.get("x-resume-token") ?? "";
    expect(token).not.toBe("");
    await res.text();
    const withToken = await fetch(new URL(`/v1/streams/${id}?token=${encodeURIComponent(token)}`, keyed.url));
    expect(withToken.status).toBe(200);
    expect(await withToken.text()).toContain("[DONE]");
    expect((await fetch(new URL(`/v1/streams/${id}`, keyed.url))).status).toBe(404);
    const other = await chat(keyed, "demo/story", { authorization: `Bearer ${alice}` });
    const otherId = other.headers.get("x-stream-id") ?? "";
    await other.text();
    // A token is bound to its stream by its signature, checked before any lookup: refused, revealing nothing.
    const misused = await fetch(
      new URL(`/v1/streams/${otherId}?token=${encodeURIComponent(token)}`, keyed.url),
    );
    expect(misused.status).toBe(401);
    await errorOf(misused);
  });
});
