import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalGateway, startGateway } from "../support/gateway.ts";
import { MockUpstream } from "../support/mock-upstream.ts";

/** Keys the gateway holds: no error body may ever contain them. */
const SECRETS = [
  "sk-bad-input-openai-0123456789",
  "sk-ant-bad-input-0123456789",
  "AIzaBadInputGemini0123456789",
];

const mock = new MockUpstream();
let gateway: LocalGateway;

beforeAll(async () => {
  await mock.start();
  mock.handle((_req, res) => {
    res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}');
  });
  gateway = await startGateway({
    OPENAI_BASE_URL: `${mock.baseUrl}/v1`,
    ANTHROPIC_BASE_URL: `${mock.baseUrl}/anthropic`,
    GEMINI_BASE_URL: `${mock.baseUrl}/gemini`,
    OPENAI_API_KEY: SECRETS[0] ?? "",
    ANTHROPIC_API_KEY: SECRETS[1] ?? "",
    GEMINI_API_KEY: SECRETS[2] ?? "",
    MAX_BODY_BYTES: "2048",
  });
});

afterAll(async () => {
  await gateway.dispose();
  await mock.stop();
});

type Shape = "openai" | "anthropic" | "gemini";

interface Case {
  readonly name: string;
  readonly method?: string;
  readonly path: string;
  readonly body?: string;
  readonly headers?: Record<string, string>;
  readonly status: number;
  readonly shape: Shape;
  /** What the error message must say. */
  readonly message: RegExp;
}

const JSON_TYPE = { "content-type": "application/json" };
const chat = (body: unknown): string => JSON.stringify(body);
const msgs = [{ role: "user", content: "hi" }];
const big = (n: number): string => JSON.stringify({ model: "m", messages: msgs, pad: "x".repeat(n) });

const NATIVE: readonly [string, string, Shape][] = [
  ["OpenAI chat", "/openai/v1/chat/completions", "openai"],
  ["OpenAI responses", "/openai/v1/responses", "openai"],
  ["Anthropic", "/anthropic/v1/messages", "anthropic"],
  ["Gemini", "/gemini/v1beta/models/gemini-2.5-flash:streamGenerateContent", "gemini"],
  ["unified", "/v1/chat/completions", "openai"],
];

const cases: Case[] = [
  ...NATIVE.flatMap(([name, path, shape]): Case[] => [
    {
      name: `${name}: invalid JSON`,
      path,
      body: "{not json",
      headers: JSON_TYPE,
      status: 400,
      shape,
      message: /not valid JSON/,
    },
    {
      name: `${name}: text/plain body`,
      path,
      body: "{}",
      headers: { "content-type": "text/plain" },
      status: 415,
      shape,
      message: /content-type must be application\/json/,
    },
    {
      name: `${name}: form body`,
      path,
      body: "a=b",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      status: 415,
      shape,
      message: /application\/json/,
    },
    { name: `${name}: empty body`, path, body: "", headers: JSON_TYPE, status: 400, shape, message: /empty/ },
    {
      name: `${name}: a JSON array`,
      path,
      body: "[1,2]",
      headers: JSON_TYPE,
      status: 400,
      shape,
      message: /must be a JSON object/,
    },
    {
      name: `${name}: body over the size limit`,
      path,
      body: big(4000),
      headers: JSON_TYPE,
      status: 413,
      shape,
      message: /exceeds the limit of 2048 bytes/,
    },
    {
      name: `${name}: GET instead of POST`,
      method: "GET",
      path,
      status: 405,
      shape,
      message: /method not allowed/,
    },
  ]),
  // Missing or mistyped fields.
  {
    name: "OpenAI chat: missing model",
    path: "/openai/v1/chat/completions",
    body: chat({ messages: msgs }),
    headers: JSON_TYPE,
    status: 400,
    shape: "openai",
    message: /"model" is required/,
  },
  {
    name: "Anthropic: model is a number",
    path: "/anthropic/v1/messages",
    body: chat({ model: 7 }),
    headers: JSON_TYPE,
    status: 400,
    shape: "anthropic",
    message: /"model" must be a non-empty string/,
  },
  {
    name: "OpenAI chat: stream is a string",
    path: "/openai/v1/chat/completions",
    body: chat({ model: "m", stream: "yes" }),
    headers: JSON_TYPE,
    status: 400,
    shape: "openai",
    message: /"stream" must be a boolean/,
  },
  {
    name: "unified: missing messages",
    path: "/v1/chat/completions",
    body: chat({ model: "demo/story" }),
    headers: JSON_TYPE,
    status: 400,
    shape: "openai",
    message: /"messages" is required/,
  },
  {
    name: "unified: empty messages",
    path: "/v1/chat/completions",
    body: chat({ model: "demo/story", messages: [] }),
    headers: JSON_TYPE,
    status: 400,
    shape: "openai",
    message: /non-empty array/,
  },
  {
    name: "unified: message without a role",
    path: "/v1/chat/completions",
    body: chat({ model: "demo/story", messages: [{ content: "x" }] }),
    headers: JSON_TYPE,
    status: 400,
    shape: "openai",
    message: /messages\[0\]\.role must be one of/,
  },
  {
    name: "unified: content of the wrong type",
    path: "/v1/chat/completions",
    body: chat({ model: "demo/story", messages: [{ role: "user", content: 5 }] }),
    headers: JSON_TYPE,
    status: 400,
    shape: "openai",
    message: /messages\[0\]\.content must be a string or an array/,
  },
  {
    name: "unified: tool message without tool_call_id",
    path: "/v1/chat/completions",
    body: chat({ model: "demo/story", messages: [{ role: "tool", content: "x" }] }),
    headers: JSON_TYPE,
    status: 400,
    shape: "openai",
    message: /tool_call_id must be a string/,
  },
  {
    name: "unified: image part without url",
    path: "/v1/chat/completions",
    body: chat({
      model: "demo/story",
      messages: [{ role: "user", content: [{ type: "image_url", image_url: {} }] }],
    }),
    headers: JSON_TYPE,
    status: 400,
    shape: "openai",
    message: /image_url\.url must be a string/,
  },
  {
    name: "unified: temperature out of range",
    path: "/v1/chat/completions",
    body: chat({ model: "demo/story", messages: msgs, temperature: 5 }),
    headers: JSON_TYPE,
    status: 400,
    shape: "openai",
    message: /"temperature" must be a number between 0 and 2/,
  },
  {
    name: "unified: top_p out of range",
    path: "/v1/chat/completions",
    body: chat({ model: "demo/story", messages: msgs, top_p: 2 }),
    headers: JSON_TYPE,
    status: 400,
    shape: "openai",
    message: /"top_p"/,
  },
  {
    name: "unified: negative max_tokens",
    path: "/v1/chat/completions",
    body: chat({ model: "demo/story", messages: msgs, max_tokens: -1 }),
    headers: JSON_TYPE,
    status: 400,
    shape: "openai",
    message: /"max_tokens" must be an integer/,
  },
  {
    name: "unified: fractional max_tokens",
    path: "/v1/chat/completions",
    body: chat({ model: "demo/story", messages: msgs, max_tokens: 1.5 }),
    headers: JSON_TYPE,
    status: 400,
    shape: "openai",
    message: /"max_tokens" must be an integer/,
  },
  {
    name: "unified: tools not a list",
    path: "/v1/chat/completions",
    body: chat({ model: "demo/story", messages: msgs, tools: {} }),
    headers: JSON_TYPE,
    status: 400,
    shape: "openai",
    message: /"tools" must be an array/,
  },
  {
    name: "unified: tool without a name",
    path: "/v1/chat/completions",
    body: chat({ model: "demo/story", messages: msgs, tools: [{ type: "function", function: {} }] }),
    headers: JSON_TYPE,
    status: 400,
    shape: "openai",
    message: /tools\[0\] must be/,
  },
  {
    name: "unified: bad tool_choice",
    path: "/v1/chat/completions",
    body: chat({ model: "demo/story", messages: msgs, tool_choice: "sometimes" }),
    headers: JSON_TYPE,
    status: 400,
    shape: "openai",
    message: /"tool_choice" must be/,
  },
  {
    name: "unified: bad response_format",
    path: "/v1/chat/completions",
    body: chat({ model: "demo/story", messages: msgs, response_format: { type: "xml" } }),
    headers: JSON_TYPE,
    status: 400,
    shape: "openai",
    message: /response_format\.type/,
  },
  // Unknown provider or model, and what a provider cannot honour.
  {
    name: "unified: unknown provider",
    path: "/v1/chat/completions",
    body: chat({ model: "nope/x", messages: msgs }),
    headers: JSON_TYPE,
    status: 404,
    shape: "openai",
    message: /model "nope\/x" not found/,
  },
  {
    name: "unified: model without a provider",
    path: "/v1/chat/completions",
    body: chat({ model: "gpt-4o", messages: msgs }),
    headers: JSON_TYPE,
    status: 400,
    shape: "openai",
    message: /must be "<provider>\/<model>"/,
  },
  {
    name: "unified: absurdly long model name",
    path: "/v1/chat/completions",
    body: chat({ model: `demo/${"a".repeat(1000)}`, messages: msgs }),
    headers: JSON_TYPE,
    status: 400,
    shape: "openai",
    message: /longer than 256 characters/,
  },
  {
    name: "unified: unknown demo model",
    path: "/v1/chat/completions",
    body: chat({ model: "demo/nope", messages: msgs }),
    headers: JSON_TYPE,
    status: 404,
    shape: "openai",
    message: /demo model "nope" not found/,
  },
  {
    name: "unified: Anthropic cannot honour logit_bias",
    path: "/v1/chat/completions",
    body: chat({ model: "anthropic/claude", messages: msgs, logit_bias: { a: 1 } }),
    headers: JSON_TYPE,
    status: 400,
    shape: "openai",
    message: /logit_bias/,
  },
  {
    name: "unified: Anthropic has no JSON mode",
    path: "/v1/chat/completions",
    body: chat({ model: "anthropic/claude", messages: msgs, response_format: { type: "json_object" } }),
    headers: JSON_TYPE,
    status: 400,
    shape: "openai",
    message: /response_format/,
  },
  {
    name: "unified: Anthropic cannot return n > 1",
    path: "/v1/chat/completions",
    body: chat({ model: "anthropic/claude", messages: msgs, n: 2 }),
    headers: JSON_TYPE,
    status: 400,
    shape: "openai",
    message: /\bn\b/,
  },
  {
    name: "unified: Gemini cannot fetch https images",
    path: "/v1/chat/completions",
    body: chat({
      model: "gemini/g",
      messages: [
        { role: "user", content: [{ type: "image_url", image_url: { url: "https://example.com/a.png" } }] },
      ],
    }),
    headers: JSON_TYPE,
    status: 400,
    shape: "openai",
    message: /image/i,
  },
  {
    name: "unified: Workers AI not bound",
    path: "/v1/chat/completions",
    body: chat({ model: "workers-ai/@cf/meta/llama-3.1-8b-instruct", messages: msgs }),
    headers: JSON_TYPE,
    status: 503,
    shape: "openai",
    message: /Workers AI is not bound/,
  },
  {
    name: "native: unknown provider",
    path: "/nope/v1/chat/completions",
    body: chat({ model: "m" }),
    headers: JSON_TYPE,
    status: 404,
    shape: "openai",
    message: /unknown provider "nope"/,
  },
  {
    name: "native: unknown endpoint",
    path: "/anthropic/v1/complete",
    body: chat({ model: "m" }),
    headers: JSON_TYPE,
    status: 404,
    shape: "anthropic",
    message: /no anthropic endpoint/,
  },
  {
    name: "unsupported method on the models list",
    method: "POST",
    path: "/v1/models",
    body: "{}",
    headers: JSON_TYPE,
    status: 405,
    shape: "openai",
    message: /use GET/,
  },
  {
    name: "PUT on a stream",
    method: "PUT",
    path: "/v1/streams/AAAAAAAAAAAAAAAAAAAAAA",
    status: 405,
    shape: "openai",
    message: /use GET, DELETE/,
  },
  // Path tricks (sent raw: fetch would normalize them).
  {
    name: "encoded slash in the provider",
    path: "/openai%2Fv1/chat/completions",
    body: chat({ model: "m" }),
    headers: JSON_TYPE,
    status: 404,
    shape: "openai",
    message: /unknown provider|no route/,
  },
  {
    name: "dot segments escaping a Gemini model",
    path: "/gemini/v1beta/models/..%2F..%2Fsecrets:generateContent",
    body: "{}",
    headers: JSON_TYPE,
    status: 400,
    shape: "gemini",
    message: /not a valid Gemini model id/,
  },
  {
    name: "a Gemini model id with a colon",
    path: "/gemini/v1beta/models/a:b:generateContent",
    body: "{}",
    headers: JSON_TYPE,
    status: 400,
    shape: "gemini",
    message: /not a valid Gemini model id/,
  },
  {
    name: "an absurdly long Gemini model id",
    path: `/gemini/v1beta/models/${"g".repeat(300)}:generateContent`,
    body: "{}",
    headers: JSON_TYPE,
    status: 400,
    shape: "gemini",
    message: /not a valid Gemini model id/,
  },
  // Resume with bad cursors or ids.
  {
    name: "unknown stream id",
    method: "GET",
    path: "/v1/streams/AAAAAAAAAAAAAAAAAAAAAA",
    status: 404,
    shape: "openai",
    message: /no stream with this id/,
  },
  {
    name: "malformed stream id",
    method: "GET",
    path: "/v1/streams/..%2F..",
    status: 404,
    shape: "openai",
    message: /no stream with this id/,
  },
  {
    name: "unknown stream's status",
    method: "GET",
    path: "/v1/streams/AAAAAAAAAAAAAAAAAAAAAA/status",
    status: 404,
    shape: "openai",
    message: /no stream/,
  },
  {
    name: "cancel of an unknown stream",
    method: "DELETE",
    path: "/v1/streams/AAAAAAAAAAAAAAAAAAAAAA",
    status: 404,
    shape: "openai",
    message: /no stream/,
  },
  {
    name: "malformed Last-Event-ID",
    method: "GET",
    path: "/v1/streams/AAAAAAAAAAAAAAAAAAAAAA",
    headers: { "last-event-id": "abc" },
    status: 400,
    shape: "openai",
    message: /Last-Event-ID must be an event number/,
  },
  {
    name: "oversized Last-Event-ID",
    method: "GET",
    path: "/v1/streams/AAAAAAAAAAAAAAAAAAAAAA",
    headers: { "last-event-id": "9".repeat(5000) },
    status: 400,
    shape: "openai",
    message: /Last-Event-ID must be an event number/,
  },
  {
    name: "negative last_event_id",
    method: "GET",
    path: "/v1/streams/AAAAAAAAAAAAAAAAAAAAAA?last_event_id=-4",
    status: 400,
    shape: "openai",
    message: /Last-Event-ID must be an event number/,
  },
  {
    name: "Last-Event-ID with a control character",
    method: "GET",
    path: "/v1/streams/AAAAAAAAAAAAAAAAAAAAAA",
    headers: { "last-event-id": "1\t2" },
    status: 400,
    shape: "openai",
    message: /Last-Event-ID must be an event number/,
  },
];

/** Sends a request exactly as given (no URL normalization), returning status, headers and body. */
function send(
  c: Case,
): Promise<{ status: number; body: string; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: gateway.url.hostname,
        port: gateway.url.port,
        method: c.method ?? "POST",
        path: c.path,
        headers: c.headers ?? {},
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (body += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      },
    );
    req.on("error", reject);
    if (c.body !== undefined) req.write(c.body);
    req.end();
  });
}

/** Reads the message out of the caller's own error shape, failing if the shape is not the expected one. */
function messageIn(shape: Shape, json: unknown): string {
  const o = json as Record<string, unknown>;
  const err = o.error as Record<string, unknown> | undefined;
  if (shape === "anthropic") {
    expect(o.type).toBe("error");
    expect(typeof err?.type).toBe("string");
  } else if (shape === "gemini") {
    expect(typeof err?.code).toBe("number");
    expect(typeof err?.status).toBe("string");
  } else {
    expect(typeof err?.type).toBe("string");
    expect(err).toHaveProperty("code");
  }
  return String(err?.message);
}

describe("every bad input gets a clear error in the caller's own format", () => {
  it("has at least 50 cases", () => {
    expect(cases.length).toBeGreaterThanOrEqual(50);
  });
  for (const c of cases) {
    it(`${c.status} for ${c.name}`, async () => {
      const before = mock.requests.length;
      const res = await send(c);
      expect(res.status).toBe(c.status);
      expect(res.headers["content-type"]).toMatch(/application\/json/);
      expect(messageIn(c.shape, JSON.parse(res.body))).toMatch(c.message);
      // Never a stack trace, never a key.
      expect(res.body).not.toMatch(/\bat .+:\d+:\d+|\.ts:\d+|stack/i);
      for (const s of SECRETS) expect(res.body).not.toContain(s);
      if (c.status === 405) expect(res.headers.allow).toBeDefined();
      // Refused before any upstream call.
      if (c.status !== 503) expect(mock.requests.length).toBe(before);
    });
  }
});

describe("header injection", () => {
  it("forwards no header the client smuggled in a forwarded header's value, and never its credentials", async () => {
    const before = mock.requests.length;
    const res = await fetch(new URL("/anthropic/v1/messages", gateway.url), {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "anthropic-version": "2023-06-01, x-injected: yes",
        authorization: "Bearer client-token",
        "x-forwarded-host": "evil.example",
        host: "evil.example",
      },
      body: chat({ model: "claude", messages: msgs }),
    });
    expect(res.status).toBe(200);
    const upstream = mock.requests[before];
    expect(upstream?.headers["x-injected"]).toBeUndefined();
    expect(upstream?.headers["x-forwarded-host"]).toBeUndefined();
    expect(upstream?.headers.authorization).toBeUndefined();
    expect(upstream?.headers["x-api-key"]).toBe(SECRETS[1]);
    expect(upstream?.headers.host).toBe(new URL(mock.baseUrl).host);
  });
});
