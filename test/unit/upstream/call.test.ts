import { describe, expect, it } from "vitest";
import { GatewayError } from "../../../src/errors.ts";
import { callUpstream } from "../../../src/upstream/call.ts";
import { buildProviders, type Provider } from "../../../src/upstream/providers.ts";

/** The built-in OpenAI provider with its transport replaced by `fetch`. */
function providerWith(fetch: (url: string, init: RequestInit) => Promise<Response>): Provider {
  const openai = buildProviders({}, () => "sk-test", []).get("openai");
  if (openai === undefined) throw new Error("no openai provider");
  return { ...openai, transport: { fetch } };
}

/** A transport that answers only when aborted (rejecting with the abort's reason), and records its init. */
function hangingTransport(): { provider: Provider; seen: RequestInit[] } {
  const seen: RequestInit[] = [];
  const provider = providerWith(
    (_url, init) =>
      new Promise<Response>((_resolve, reject) => {
        seen.push(init);
        init.signal?.addEventListener("abort", () => reject(init.signal?.reason));
      }),
  );
  return { provider, seen };
}

const REQ = { url: "http://upstream.test/v1/chat/completions", headers: {}, body: "{}" };

describe("callUpstream", () => {
  it("sends with the attempt's own signal and, past the deadline, aborts the attempt and answers 504", async () => {
    const { provider, seen } = hangingTransport();
    const abort = new AbortController();
    const call = callUpstream(provider, REQ, 20, abort);
    await expect(call).rejects.toBeInstanceOf(GatewayError);
    await expect(call).rejects.toMatchObject({
      status: 504,
      message: expect.stringMatching(/did not answer within 20 ms/),
    });
    expect(seen[0]?.signal).toBe(abort.signal);
    expect(abort.signal.aborted).toBe(true);
  });

  it("stops waiting when the attempt is aborted (the client went away): 502, not a timeout", async () => {
    const { provider } = hangingTransport();
    const abort = new AbortController();
    const pending = callUpstream(provider, REQ, 60_000, abort);
    abort.abort("client disconnected");
    await expect(pending).rejects.toBeInstanceOf(GatewayError);
    await expect(pending).rejects.toMatchObject({ status: 502 });
  });

  it("never sends an attempt that was already aborted", async () => {
    const abort = new AbortController();
    abort.abort("client disconnected");
    let sentWithLiveSignal = false;
    const provider = providerWith(async (_url, init) => {
      sentWithLiveSignal = init.signal?.aborted === false;
      if (init.signal?.aborted) throw init.signal.reason;
      return new Response("data: [DONE]\n\n", { headers: { "content-type": "text/event-stream" } });
    });
    await expect(callUpstream(provider, REQ, 60_000, abort)).rejects.toMatchObject({ status: 502 });
    expect(sentWithLiveSignal).toBe(false);
  });

  it("clears its deadline once the headers came: the attempt stays open for its body", async () => {
    const abort = new AbortController();
    const provider = providerWith(
      async () => new Response("data: [DONE]\n\n", { headers: { "content-type": "text/event-stream" } }),
    );
    const res = await callUpstream(provider, REQ, 20, abort);
    await new Promise((r) => setTimeout(r, 50));
    expect(abort.signal.aborted).toBe(false);
    expect(await res.text()).toBe("data: [DONE]\n\n");
  });
});
