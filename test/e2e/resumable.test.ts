import { EventSource } from "eventsource";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalGateway, startGateway } from "../support/gateway.ts";
import { MockUpstream, startSse } from "../support/mock-upstream.ts";
import { withoutTimings } from "../support/timings.ts";
import { until } from "../support/until.ts";

const mock = new MockUpstream();
let gateway: LocalGateway;

beforeAll(async () => {
  await mock.start();
  gateway = await startGateway({ OPENAI_BASE_URL: `${mock.baseUrl}/v1`, OPENAI_API_KEY: "sk-e2e" });
});

afterAll(async () => {
  await gateway.dispose();
  await mock.stop();
});

/** An upstream generating `n` tokens `ms` apart; `sent()` tells how many it wrote before it was stopped. */
function generating(n: number, ms: number): { sent: () => number } {
  let sent = 0;
  mock.handle(async (_req, res) => {
    startSse(res);
    for (; sent < n && !res.destroyed; sent++) {
      res.write(`data: {"choices":[{"index":0,"delta":{"content":"t${sent} "}}]}\n\n`);
      await new Promise((r) => setTimeout(r, ms));
    }
    if (!res.destroyed) res.end("data: [DONE]\n\n");
  });
  return { sent: () => sent };
}

function start(signal?: AbortSignal): Promise<Response> {
  return fetch(new URL("/openai/v1/chat/completions", gateway.url), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "gpt", stream: true, messages: [{ role: "user", content: "x" }] }),
    ...(signal ? { signal } : {}),
  });
}

describe("resumable streams over real connections", () => {
  it("stops the provider's generation on DELETE: the upstream connection is closed", async () => {
    const upstream = generating(500, 20);
    const res = await start();
    const id = res.headers.get("x-stream-id") ?? "";
    await res.body?.getReader().read();
    const del = await fetch(new URL(`/v1/streams/${id}`, gateway.url), { method: "DELETE" });
    expect(await del.json()).toEqual({ id, state: "cancelled" });
    await mock.requests.at(-1)?.closed;
    expect(upstream.sent()).toBeLessThan(100);
  });

  it("keeps the upstream going when the client disconnects, and the answer completes", async () => {
    const upstream = generating(30, 10);
    const abort = new AbortController();
    const res = await start(abort.signal);
    const id = res.headers.get("x-stream-id") ?? "";
    await res.body?.getReader().read();
    abort.abort();
    await mock.requests.at(-1)?.closed;
    expect(upstream.sent()).toBe(30);
    const replay = await (await fetch(new URL(`/v1/streams/${id}`, gateway.url))).text();
    expect(replay).toContain('"content":"t29 "');
    expect(withoutTimings(replay).endsWith("data: [DONE]\nid: 31\n\n")).toBe(true);
  });

  it("detaches each reader whose client goes away, the first and a resumed one, while generation goes on", async () => {
    const upstream = generating(60, 20);
    const first = new AbortController();
    const res = await start(first.signal);
    const id = res.headers.get("x-stream-id") ?? "";
    await res.body?.getReader().read();
    const status = async () =>
      (await (await fetch(new URL(`/v1/streams/${id}/status`, gateway.url))).json()) as {
        state: string;
        readers: number;
      };
    expect(await status()).toMatchObject({ state: "streaming", readers: 1 });
    const second = new AbortController();
    const resumed = await fetch(new URL(`/v1/streams/${id}`, gateway.url), { signal: second.signal });
    await resumed.body?.getReader().read();
    expect((await status()).readers).toBe(2);
    // Real connections closed by the client: the object must see each one go, not keep queueing for it.
    second.abort();
    await until("the resumed reader to be detached", async () => (await status()).readers === 1);
    first.abort();
    await until("the first reader to be detached", async () => (await status()).readers === 0);
    expect((await status()).state).toBe("streaming");
    await mock.requests.at(-1)?.closed;
    expect(upstream.sent()).toBe(60);
    await until("the stream to complete", async () => (await status()).state === "complete");
    expect((await status()).readers).toBe(0);
  });

  it("lets a browser-style EventSource reconnect by itself after the server closes, with the text complete", async () => {
    generating(40, 5);
    const res = await start();
    const id = res.headers.get("x-stream-id") ?? "";
    await res.body?.cancel();
    let connections = 0;
    const lastEventIds: (string | null)[] = [];
    // The first connection is closed by the "server" after 3 events; EventSource must reconnect on its own.
    const cutting: typeof fetch = async (input, init) => {
      connections++;
      lastEventIds.push(new Headers(init?.headers).get("last-event-id"));
      const upstream = await fetch(input, init);
      if (connections > 1 || upstream.body === null) return upstream;
      let seen = 0;
      const reader = upstream.body.getReader();
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          const { done, value } = await reader.read();
          seen += (new TextDecoder().decode(value ?? new Uint8Array()).match(/\nid: /g) ?? []).length;
          if (done || seen >= 3) {
            if (value) controller.enqueue(value);
            await reader.cancel();
            controller.close();
          } else controller.enqueue(value);
        },
      });
      return new Response(body, upstream);
    };
    const source = new EventSource(new URL(`/v1/streams/${id}`, gateway.url).href, { fetch: cutting });
    const text = await new Promise<string>((resolve, reject) => {
      let acc = "";
      source.onmessage = (e) => {
        if (e.data === "[DONE]") {
          source.close();
          resolve(acc);
          return;
        }
        const chunk = JSON.parse(e.data) as { choices: { delta: { content?: string } }[] };
        acc += chunk.choices[0]?.delta.content ?? "";
      };
      setTimeout(() => reject(new Error("EventSource never finished")), 15_000);
    });
    expect(text).toBe(Array.from({ length: 40 }, (_, i) => `t${i} `).join(""));
    expect(connections).toBeGreaterThanOrEqual(2);
    expect(lastEventIds[0]).toBeNull();
    expect(Number(lastEventIds[1])).toBeGreaterThanOrEqual(1);
  });
});

// Issue 17: STREAM_HOSTS=0 is the design before stream hosts, kept as a setting: an object per stream.
describe("STREAM_HOSTS=0: every stream in an object of its own", () => {
  let own: LocalGateway;
  beforeAll(async () => {
    own = await startGateway({
      OPENAI_BASE_URL: `${mock.baseUrl}/v1`,
      OPENAI_API_KEY: "sk-e2e",
      STREAM_HOSTS: "0",
    });
  });
  afterAll(async () => {
    await own.dispose();
  });

  it("mints ids without a host, and a client cut mid-stream resumes to the same bytes", async () => {
    generating(20, 5);
    const abort = new AbortController();
    const res = await fetch(new URL("/openai/v1/chat/completions", own.url), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt", stream: true, messages: [{ role: "user", content: "x" }] }),
      signal: abort.signal,
    });
    const id = res.headers.get("x-stream-id") ?? "";
    expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    await res.body?.getReader().read();
    abort.abort();
    await mock.requests.at(-1)?.closed;
    const replay = await (await fetch(new URL(`/v1/streams/${id}`, own.url))).text();
    const text = [...replay.matchAll(/"content":"([^"]*)"/g)].map((m) => m[1]).join("");
    expect(text).toBe(Array.from({ length: 20 }, (_, i) => `t${i} `).join(""));
    expect(withoutTimings(replay).endsWith("data: [DONE]\nid: 21\n\n")).toBe(true);
  });
});
