import { describe, expect, it } from "vitest";
import { forwardableHeaders, upstreamRequestHeaders } from "../../../src/http/upstream-headers.ts";
import { buildProviders, type Provider } from "../../../src/upstream/providers.ts";

const SECRETS: Record<string, string> = {
  OPENAI_API_KEY: "sk-openai-secret",
  ANTHROPIC_API_KEY: "sk-ant-secret",
};

function provider(name: string, secrets: Record<string, string> = SECRETS): Provider {
  const p = buildProviders({}, (secret) => secrets[secret], []).get(name);
  if (p === undefined) throw new Error(`no provider ${name}`);
  return p;
}

describe("upstreamRequestHeaders", () => {
  it("sends JSON with the provider's own credential and nothing the client used to authenticate", () => {
    const client = new Headers({
      authorization: "Bearer the-gateway-key",
      cookie: "session=1",
      "x-api-key": "client-key",
      "anthropic-version": "2023-06-01",
      "idempotency-key": "abc",
    });
    expect(upstreamRequestHeaders(client, provider("anthropic"))).toEqual({
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      "anthropic-version": "2023-06-01",
      "idempotency-key": "abc",
      "x-api-key": "sk-ant-secret",
    });
    expect(upstreamRequestHeaders(client, provider("openai"))).toMatchObject({
      authorization: "Bearer sk-openai-secret",
    });
  });

  it("lets an extra header replace a default whatever its case, and never the provider's credential", () => {
    const h = upstreamRequestHeaders(new Headers(), provider("openai"), {
      "Content-Type": "application/x-ndjson",
      Authorization: "Bearer someone-else",
      Upgrade: "websocket",
    });
    // One entry per name, lowercase, as `Headers.set` would leave it.
    expect(h).toEqual({
      "content-type": "application/x-ndjson",
      accept: "application/json, text/event-stream",
      authorization: "Bearer sk-openai-secret",
      upgrade: "websocket",
    });
  });

  it("sends no credential header when the provider has no key", () => {
    const h = upstreamRequestHeaders(new Headers({ authorization: "Bearer x" }), provider("openai", {}));
    expect(Object.keys(h)).not.toContain("authorization");
  });

  it("is what a request built from it carries", () => {
    const h = upstreamRequestHeaders(new Headers({ "openai-beta": "assistants=v2" }), provider("openai"));
    const req = new Request("http://upstream.test/v1/chat/completions", { method: "POST", headers: h });
    expect(req.headers.get("openai-beta")).toBe("assistants=v2");
    expect(req.headers.get("authorization")).toBe("Bearer sk-openai-secret");
  });
});

describe("forwardableHeaders", () => {
  it("keeps only the allow-listed client headers", () => {
    expect(
      forwardableHeaders(new Headers({ "anthropic-beta": "x", authorization: "Bearer k", "x-other": "1" })),
    ).toEqual({ "anthropic-beta": "x" });
  });
});
