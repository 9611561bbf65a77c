import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalGateway, startGateway } from "../support/gateway.ts";

// scripts/check-config.ts stops npm start, build and deploy on a bad variable; a worker whose variables
// change after that (the dashboard, wrangler.toml edited while wrangler dev runs) still says what is wrong.
let gateway: LocalGateway;

beforeAll(async () => {
  gateway = await startGateway({
    PROVIDERS: '[{"name":"groq","baseUrl":"https://api.groq.com/openai/v1","format":"grpc"}]',
  });
});

afterAll(async () => {
  await gateway?.dispose();
});

describe("a worker running with a bad variable", () => {
  it("answers every request, /healthz included, with a 500 naming the variable and field", async () => {
    for (const [path, init] of [
      ["/healthz", {}],
      [
        "/v1/chat/completions",
        { method: "POST", headers: { "content-type": "application/json" }, body: "{}" },
      ],
    ] as const) {
      const res = await fetch(new URL(path, gateway.url), init);
      expect(res.status, path).toBe(500);
      expect(await res.text(), path).toContain('PROVIDERS[0] (groq): format must be \\"openai\\"');
    }
  });
});
