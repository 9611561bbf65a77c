import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";

interface Health {
  ok: boolean;
  providers: { name: string; family: string; configured: boolean; needs?: string }[];
}

async function health(): Promise<Health> {
  const res = await SELF.fetch("https://gateway.test/healthz");
  expect(res.status).toBe(200);
  return (await res.json()) as Health;
}

describe("/healthz tells the truth about every provider", () => {
  it("says Workers AI is not configured, and needs the AI binding, when the binding is absent", async () => {
    // vitest.workers.config.ts binds no AI, and a call then answers 503 "Workers AI is not bound".
    const ai = (await health()).providers.find((p) => p.name === "workers-ai");
    expect(ai).toEqual({ name: "workers-ai", family: "workers-ai", configured: false, needs: "binding AI" });
    const res = await SELF.fetch("https://gateway.test/v1/chat/completions", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: "workers-ai/@cf/meta/llama-3.1-8b-instruct",
        messages: [{ role: "user", content: "hi" }],
      }),
    });
    expect(res.status).toBe(503);
  });

  it("names the missing secret of a keyed provider, never a value", async () => {
    const { providers } = await health();
    // GROQ_API_KEY is named by PROVIDERS but not set; the built-in keys are set.
    expect(providers.find((p) => p.name === "groq")).toMatchObject({
      configured: false,
      needs: "secret GROQ_API_KEY",
    });
    expect(providers.find((p) => p.name === "openai")).toEqual({
      name: "openai",
      family: "openai",
      configured: true,
    });
    expect(providers.find((p) => p.name === "local")).toMatchObject({ configured: true });
    expect(providers.find((p) => p.name === "demo")).toMatchObject({ configured: true });
    expect(JSON.stringify(providers)).not.toContain("sk-test");
  });
});
