import type { ServerResponse } from "node:http";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalGateway, startGateway } from "../support/gateway.ts";
import { MockUpstream, type ReceivedRequest, startSse } from "../support/mock-upstream.ts";
import { readToEnd } from "../support/read-to-end.ts";

/**
 * MAX_EVENT_BYTES through the real worker: an upstream that starts an event and never ends it (one
 * `data:` line growing forever) would grow the gateway's memory without bound. Instead the stream ends
 * with an explicit `upstream_event_too_large` error, the upstream request is aborted, and a resumable
 * stream's status says `interrupted` with the reason.
 */
const MAX_EVENT_BYTES = 4096;
const mock = new MockUpstream();
let gateway: LocalGateway;

beforeAll(async () => {
  await mock.start();
  gateway = await startGateway({
    OPENAI_BASE_URL: `${mock.baseUrl}/openai/v1`,
    OPENAI_API_KEY: "sk-e2e-openai",
    MAX_EVENT_BYTES: String(MAX_EVENT_BYTES),
  });
});

afterAll(async () => {
  await gateway.dispose();
  await mock.stop();
});

const HELLO = 'data: {"choices":[{"index":0,"delta":{"content":"Hello"}}]}\n\n';

/**
 * One whole event, then an event that never ends: 1 KiB more of its `data:` line every 5 ms until the
 * gateway hangs up. Resolves `closed` with how many bytes of it had been written by then.
 */
function endlessEvent(): { closedAfter: Promise<number> } {
  let resolve: (n: number) => void = () => {};
  const closedAfter = new Promise<number>((r) => {
    resolve = r;
  });
  mock.handle((req: ReceivedRequest, res: ServerResponse) => {
    startSse(res);
    res.write(HELLO);
    res.write("data: ");
    let written = 0;
    const timer = setInterval(() => {
      res.write("x".repeat(1024));
      written += 1024;
    }, 5);
    void req.closed.then(() => {
      clearInterval(timer);
      resolve(written);
    });
  });
  return { closedAfter };
}

function post(headers: Record<string, string> = {}): Promise<Response> {
  return fetch(new URL("/openai/v1/chat/completions", gateway.url), {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ model: "gpt", stream: true, messages: [{ role: "user", content: "hi" }] }),
  });
}

/** `data:` payloads of an SSE text, in order. */
function dataOf(text: string): string[] {
  return [...text.matchAll(/^data: (.*)$/gm)].map((m) => m[1] ?? "");
}

describe("an upstream event that never ends", () => {
  it("ends a resumable stream with upstream_event_too_large, aborts the upstream and is interrupted", async () => {
    const { closedAfter } = endlessEvent();
    const res = await post();
    const text = await readToEnd(res);
    const data = dataOf(text);
    expect(data[0]).toBe(HELLO.slice(6, -2));
    expect(JSON.parse(data.at(-1) ?? "")).toMatchObject({
      error: { code: "upstream_event_too_large", type: "server_error" },
    });
    expect(text).not.toContain("xxxx");
    // The upstream is let go of soon after the limit, not left streaming into nowhere.
    expect(await closedAfter).toBeLessThan(64 * MAX_EVENT_BYTES);
    const status = (await (
      await fetch(new URL(`/v1/streams/${res.headers.get("x-stream-id")}/status`, gateway.url))
    ).json()) as { state: string; detail: string | null };
    expect(status.state).toBe("interrupted");
    expect(status.detail).toMatch(/^upstream_event_too_large: .*4096/);
  });

  it("makes the OpenAI SDK raise on a direct stream after the text it already had", async () => {
    const { closedAfter } = endlessEvent();
    const client = new OpenAI({
      baseURL: new URL("/openai/v1", gateway.url).href,
      apiKey: "placeholder",
      maxRetries: 0,
      defaultHeaders: { "x-resumable": "false" },
    });
    const stream = await client.chat.completions.create({
      model: "gpt",
      stream: true,
      messages: [{ role: "user", content: "hi" }],
    });
    let text = "";
    const read = async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    };
    await expect(read()).rejects.toThrow(/longer than the gateway's limit/);
    expect(text).toBe("Hello");
    expect(await closedAfter).toBeLessThan(64 * MAX_EVENT_BYTES);
  });
});
