import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";

// vitest.workers.config.ts leaves ALLOWED_ORIGINS empty (wrangler.toml's default): only the gateway's own
// origin is allowed. These are the headers a page reads; real Chromium proves the browser side
// (test/browser/demo.test.ts).
const SAME = "https://gateway.test";
const OTHER = "https://elsewhere.test";

function chat(origin: string, headers: Record<string, string> = {}): Promise<Response> {
  return SELF.fetch(`${SAME}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", origin, ...headers },
    body: JSON.stringify({ model: "demo/story", stream: true, messages: [{ role: "user", content: "hi" }] }),
  });
}

/** The `vary` header's values, in order. */
const vary = (res: Response) => (res.headers.get("vary") ?? "").split(",").map((v) => v.trim());

describe("CORS headers on every kind of response", () => {
  it("a response the gateway builds itself (JSON) gets them, and Vary: Origin once", async () => {
    const res = await SELF.fetch(`${SAME}/healthz`, { headers: { origin: SAME } });
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBe(SAME);
    expect(res.headers.get("access-control-expose-headers")).toContain("x-stream-id");
    expect(vary(res)).toEqual(["Origin"]);
    expect(((await res.json()) as { ok: boolean }).ok).toBe(true);
  });

  it("a stream served by its Durable Object (immutable headers) gets them too, with its whole body", async () => {
    const res = await chat(SAME);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-stream-id")).not.toBeNull();
    expect(res.headers.get("access-control-allow-origin")).toBe(SAME);
    expect(res.headers.get("access-control-expose-headers")).toContain("x-stream-id");
    expect(vary(res).filter((v) => v === "Origin")).toHaveLength(1);
    expect(await res.text()).toContain("data: [DONE]");
  });

  it("a plain (not resumable) stream gets them, with its whole body", async () => {
    const res = await chat(SAME, { "x-resumable": "false" });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-stream-id")).toBeNull();
    expect(res.headers.get("access-control-allow-origin")).toBe(SAME);
    expect(vary(res).filter((v) => v === "Origin")).toHaveLength(1);
    expect(await res.text()).toContain("data: [DONE]");
  });

  it("an error response gets them, so a page can read why it failed", async () => {
    const res = await SELF.fetch(`${SAME}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "text/plain", origin: SAME },
      body: "hi",
    });
    expect(res.status).toBe(415);
    expect(res.headers.get("access-control-allow-origin")).toBe(SAME);
  });

  it("an origin that is not allowed gets no allow header, only Vary, on each of them", async () => {
    const responses = [
      await SELF.fetch(`${SAME}/healthz`, { headers: { origin: OTHER } }),
      await chat(OTHER),
      await chat(OTHER, { "x-resumable": "false" }),
    ];
    for (const res of responses) {
      expect(res.headers.get("access-control-allow-origin")).toBeNull();
      expect(res.headers.get("access-control-expose-headers")).toBeNull();
      expect(vary(res)).toContain("Origin");
      await res.body?.cancel();
    }
  });

  it("headers set in place never pile up: every request's response carries one Vary: Origin", async () => {
    for (let i = 0; i < 3; i++) {
      const res = await SELF.fetch(`${SAME}/`, { headers: { origin: SAME } });
      expect(res.status).toBe(200);
      expect(vary(res).filter((v) => v === "Origin")).toHaveLength(1);
      await res.body?.cancel();
    }
  });
});
