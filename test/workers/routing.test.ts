import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { withoutTimings } from "../support/timings.ts";
import { sha256Hex } from "./support/outbound.ts";

const GATEWAY = "https://gateway.test";

function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return SELF.fetch(`${GATEWAY}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

interface Echo {
  url: string;
  headers: Record<string, string>;
  /** SHA-256 of each credential header the upstream received. */
  credentials: Record<string, string>;
  body: string;
}

describe("native routes forward to the configured upstream", () => {
  it("sends OpenAI chat completions to OPENAI_BASE_URL with the provider key as a bearer token", async () => {
    const res = await post("/openai/v1/chat/completions", { model: "gpt-x", messages: [] });
    expect(res.status).toBe(200);
    const echo = (await res.json()) as Echo;
    expect(echo.url).toBe("https://upstream.test/openai/v1/chat/completions");
    expect(echo.credentials.authorization).toBe(await sha256Hex("Bearer sk-test-openai-key-0123456789"));
    // The key the upstream echoed back is masked by the output guardrail on its way to the client.
    expect(echo.headers.authorization).toBe("Bearer [REDACTED:openai_key]");
  });

  it("forwards the request body byte for byte, unknown fields included", async () => {
    const raw = '{"model":"gpt-x","messages":[],"x_unknown":{"a":[1,2]},  "n":1}';
    const echo = (await (await post("/openai/v1/responses", raw)).json()) as Echo;
    expect(echo.url).toBe("https://upstream.test/openai/v1/responses");
    expect(echo.body).toBe(raw);
  });

  it("uses x-api-key and anthropic-version for Anthropic", async () => {
    const echo = (await (
      await post("/anthropic/v1/messages", { model: "claude" }, { "anthropic-version": "2023-06-01" })
    ).json()) as Echo;
    expect(echo.url).toBe("https://upstream.test/anthropic/v1/messages");
    expect(echo.credentials["x-api-key"]).toBe(await sha256Hex("sk-ant-test-anthropic-key-0123456789"));
    expect(echo.headers["anthropic-version"]).toBe("2023-06-01");
    expect(echo.headers.authorization).toBeUndefined();
  });

  it("uses x-goog-api-key for Gemini and always asks for SSE framing when streaming", async () => {
    const echo = (await (
      await post("/gemini/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse&key=leak", {
        contents: [],
      })
    ).json()) as Echo;
    expect(echo.url).toBe(
      "https://upstream.test/gemini/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
    );
    expect(echo.headers["x-goog-api-key"]).toBe("AIzaTestGeminiKey0123456789");
  });

  it("reaches configured OpenAI-compatible providers by name, with no key when none is configured", async () => {
    const echo = (await (await post("/local/v1/chat/completions", { model: "llama" })).json()) as Echo;
    expect(echo.url).toBe("https://upstream.test/local/v1/chat/completions");
    expect(echo.headers.authorization).toBeUndefined();
  });

  it("never forwards client credentials, cookies or hop-by-hop headers", async () => {
    const echo = (await (
      await post(
        "/openai/v1/chat/completions",
        { model: "gpt-x" },
        {
          authorization: "Bearer client-secret",
          cookie: "session=abc",
          "proxy-authorization": "Basic xyz",
          "x-forwarded-for": "1.2.3.4",
          te: "trailers",
          "openai-beta": "assistants=v2",
        },
      )
    ).json()) as Echo;
    const sent = JSON.stringify(echo.headers);
    expect(sent).not.toContain("client-secret");
    expect(sent).not.toContain("session=abc");
    expect(sent).not.toContain("Basic xyz");
    expect(echo.headers["x-forwarded-for"]).toBeUndefined();
    expect(echo.headers["openai-beta"]).toBe("assistants=v2");
  });
});

describe("streaming responses", () => {
  it("carry SSE headers, never compressed, and keep only safe upstream headers", async () => {
    const res = await post(
      "/openai/v1/chat/completions",
      { model: "sse-basic", stream: true },
      { "accept-encoding": "gzip, br", "x-resumable": "false" },
    );
    expect(res.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    expect(res.headers.get("cache-control")).toBe("no-cache, no-transform");
    expect(res.headers.get("x-accel-buffering")).toBe("no");
    expect(res.headers.get("content-encoding")).toBeNull();
    expect(res.headers.get("x-request-id")).toBe("req_123");
    expect(res.headers.get("set-cookie")).toBeNull();
    expect(withoutTimings(await res.text())).toBe(
      'data: {"choices":[{"index":0,"delta":{"content":"hi"}}]}\n\ndata: [DONE]\n\n',
    );
  });

  it("streams the built-in demo provider with no key and no network", async () => {
    const res = await post("/demo/v1/chat/completions", {
      model: "echo",
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: "user", content: "ping pong" }],
    });
    const text = await res.text();
    const deltas = [...text.matchAll(/"content":"([^"]*)"/g)].map((m) => m[1]).join("");
    expect(deltas).toBe("You said: ping pong");
    expect(text).toContain('"completion_tokens":4');
    expect(withoutTimings(text).endsWith("data: [DONE]\nid: 8\n\n")).toBe(true);
    expect(res.headers.get("x-stream-id")).toMatch(/^[a-z0-9]{1,8}-\d{1,4}\.[A-Za-z0-9_-]{22}$/); // `<host>.<128 random bits>`
  });
});

describe("upstream errors keep their status in the provider's own error shape", () => {
  it("maps a 429 with retry-after into OpenAI's shape without echoing the key", async () => {
    const res = await post("/openai/v1/chat/completions", { model: "status-429" });
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("7");
    expect(res.headers.get("set-cookie")).toBeNull();
    const body = (await res.json()) as { error: { message: string; code: string; type: string } };
    expect(body.error.code).toBe("upstream_error");
    expect(body.error.type).toBe("rate_limit_error");
    expect(body.error.message).toContain("HTTP 429");
    expect(body.error.message).not.toContain("sk-test-openai-key");
  });

  it("answers Anthropic routes in Anthropic's error shape", async () => {
    const res = await post("/anthropic/v1/messages", { model: "status-401" });
    expect(res.status).toBe(401);
    const body = (await res.json()) as { type: string; error: { type: string; message: string } };
    expect(body.type).toBe("error");
    expect(body.error.type).toBe("authentication_error");
    expect(body.error.message).not.toContain("sk-ant-test");
  });

  it("answers Gemini routes in Google's error shape", async () => {
    const res = await post("/gemini/v1beta/models/status-503:generateContent", {});
    expect(res.status).toBe(503);
    const body = (await res.json()) as { error: { code: number; status: string; message: string } };
    expect(body.error).toMatchObject({ code: 503, status: "UNAVAILABLE" });
    expect(body.error.message).not.toContain("AIzaTest");
  });

  it("reports a non-JSON upstream error page by status alone", async () => {
    const res = await post("/openai/v1/chat/completions", { model: "html-error" });
    expect(res.status).toBe(502);
    const body = (await res.json()) as { error: { message: string } };
    expect(body.error.message).toBe('provider "openai" returned HTTP 502');
  });
});

describe("bad requests are answered clearly", () => {
  const cases: { name: string; path: string; init: RequestInit; status: number; message: RegExp }[] = [
    {
      name: "non-JSON content type",
      path: "/openai/v1/chat/completions",
      init: { method: "POST", headers: { "content-type": "text/plain" }, body: "{}" },
      status: 415,
      message: /content-type must be application\/json/,
    },
    {
      name: "invalid JSON",
      path: "/openai/v1/chat/completions",
      init: { method: "POST", headers: { "content-type": "application/json" }, body: "{nope" },
      status: 400,
      message: /not valid JSON/,
    },
    {
      name: "a JSON array",
      path: "/openai/v1/chat/completions",
      init: { method: "POST", headers: { "content-type": "application/json" }, body: "[]" },
      status: 400,
      message: /must be a JSON object/,
    },
    {
      name: "missing model",
      path: "/openai/v1/chat/completions",
      init: { method: "POST", headers: { "content-type": "application/json" }, body: "{}" },
      status: 400,
      message: /"model" is required/,
    },
    {
      name: "mistyped stream",
      path: "/anthropic/v1/messages",
      init: {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: '{"model":"c","stream":"yes"}',
      },
      status: 400,
      message: /"stream" must be a boolean/,
    },
    {
      name: "body over the limit",
      path: "/openai/v1/chat/completions",
      init: {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "m", pad: "x".repeat(5000) }),
      },
      status: 413,
      message: /exceeds the limit of 4096 bytes/,
    },
    {
      name: "unknown provider",
      path: "/nope/v1/chat/completions",
      init: { method: "POST", headers: { "content-type": "application/json" }, body: '{"model":"m"}' },
      status: 404,
      message: /unknown provider "nope"/,
    },
    {
      name: "unknown native endpoint",
      path: "/openai/v1/embeddings",
      init: { method: "POST", headers: { "content-type": "application/json" }, body: '{"model":"m"}' },
      status: 404,
      message: /no openai endpoint/,
    },
    {
      name: "wrong method",
      path: "/openai/v1/chat/completions",
      init: { method: "GET" },
      status: 405,
      message: /method not allowed/,
    },
    {
      name: "invalid Gemini model in path",
      path: "/gemini/v1beta/models/..%2F..%2Fx:generateContent",
      init: { method: "POST", headers: { "content-type": "application/json" }, body: "{}" },
      status: 400,
      message: /not a valid Gemini model id/,
    },
    {
      name: "provider whose key is not set",
      path: "/groq/v1/chat/completions",
      init: { method: "POST", headers: { "content-type": "application/json" }, body: '{"model":"m"}' },
      status: 503,
      message: /set the secret GROQ_API_KEY/,
    },
  ];
  for (const c of cases) {
    it(`answers ${c.status} for ${c.name}`, async () => {
      const res = await SELF.fetch(`${GATEWAY}${c.path}`, c.init);
      expect(res.status).toBe(c.status);
      const body = (await res.json()) as { error: { message: string } };
      expect(body.error.message).toMatch(c.message);
    });
  }
});

describe("the gateway serves its demo page and browser client itself", () => {
  it("serves the demo page at / and /index.html, whose script /demo.js imports the client from /client.js", async () => {
    for (const path of ["/", "/index.html"]) {
      const res = await SELF.fetch(`${GATEWAY}${path}`);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(await res.text()).toContain('<script type="module" src="/demo.js">');
    }
    const script = await SELF.fetch(`${GATEWAY}/demo.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    // The page shares the served client rather than bundling a copy of its own.
    expect(await script.text()).toMatch(/from\s*"\/client\.js"/);
  });

  it("serves the bundled client as a JavaScript module exporting streamChat", async () => {
    const res = await SELF.fetch(`${GATEWAY}/client.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(await res.text()).toMatch(/export\s*\{[^}]*\bstreamChat\b/);
  });

  it("answers a revalidation with an empty 304 while the file is unchanged, and 200 once the tag differs", async () => {
    const first = await SELF.fetch(`${GATEWAY}/client.js`);
    const etag = first.headers.get("etag");
    await first.body?.cancel();
    expect(etag).toMatch(/^"[\w-]{22}"$/);
    expect(first.headers.get("cache-control")).toBe("no-cache");
    const same = await SELF.fetch(`${GATEWAY}/client.js`, { headers: { "if-none-match": `W/${etag}` } });
    expect(same.status).toBe(304);
    expect(await same.text()).toBe("");
    const other = await SELF.fetch(`${GATEWAY}/client.js`, { headers: { "if-none-match": '"stale"' } });
    expect(other.status).toBe(200);
    await other.body?.cancel();
  });

  it("answers HEAD without a body and other methods with 405 naming GET and HEAD", async () => {
    const head = await SELF.fetch(`${GATEWAY}/`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("etag")).not.toBeNull();
    expect(await head.text()).toBe("");
    const del = await SELF.fetch(`${GATEWAY}/index.html`, { method: "DELETE" });
    expect(del.status).toBe(405);
    expect(del.headers.get("allow")).toBe("GET, HEAD");
  });
});
