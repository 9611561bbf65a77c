import { SELF } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

const GATEWAY = "https://gateway.test";

/** The fields of a `stream_metrics` log line this suite reads. */
interface MetricsLine {
  event: string;
  model: string;
  route: string;
  outcome: string;
  streamId: string;
  upstreamRequestId: string;
  tokensSource: string;
  outputTokens: number;
}

/** Every console.log call's arguments, and the `stream_metrics` lines among them, parsed. */
let calls: unknown[][] = [];
let lines: MetricsLine[] = [];

beforeEach(() => {
  calls = [];
  lines = [];
  vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => {
    calls.push(args);
    const [text] = args;
    if (typeof text !== "string" || !text.startsWith("{")) return;
    const parsed = JSON.parse(text) as { event?: unknown };
    if (parsed.event === "stream_metrics") lines.push(parsed as MetricsLine);
  });
});

afterEach(() => {
  vi.restoreAllMocks();
});

function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return SELF.fetch(`${GATEWAY}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

/**
 * Waits for the one data point of `model` (the stream's object may write it after the body ends),
 * among those of the stream `streamId` names ("" for a direct stream) when given.
 */
async function lineFor(model: string, streamId?: string): Promise<MetricsLine> {
  const mine = () =>
    lines.filter((l) => l.model === model && (streamId === undefined || l.streamId === streamId));
  for (let i = 0; i < 300 && mine().length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  expect(mine()).toHaveLength(1);
  return mine()[0] as MetricsLine;
}

const messages = [{ role: "user", content: "x" }];

describe("the stream_metrics log line", () => {
  it("is one JSON line naming a resumable stream by its id and the upstream's request id", async () => {
    const res = await post("/openai/v1/chat/completions", { model: "sse-basic", stream: true, messages });
    const id = res.headers.get("x-stream-id") ?? "";
    expect(id).toMatch(/^[a-z0-9]{1,8}-\d{1,4}\.[A-Za-z0-9_-]{22}$/); // `<host>.<128 random bits>`
    await res.text();
    const line = await lineFor("openai/sse-basic", id);
    expect(line).toMatchObject({ streamId: id, upstreamRequestId: "req_123", route: "native/openai-chat" });
    const logged = calls.find(
      (args) => typeof args[0] === "string" && args[0].includes(`"streamId":"${id}"`),
    );
    expect(logged).toHaveLength(1);
    expect(String(logged?.[0])).not.toMatch(/[\r\n]/);
  });

  it("has an empty stream id for a direct stream", async () => {
    const res = await post(
      "/openai/v1/chat/completions",
      { model: "sse-basic", stream: true, messages },
      { "x-resumable": "false" },
    );
    expect(res.headers.get("x-stream-id")).toBeNull();
    await res.text();
    expect(await lineFor("openai/sse-basic", "")).toMatchObject({ upstreamRequestId: "req_123" });
  });

  it("counts the demo's tokens exactly on the unified route, which always asks for usage", async () => {
    await (await post("/v1/chat/completions", { model: "demo/story", stream: true, messages })).text();
    expect(await lineFor("demo/story")).toMatchObject({
      route: "unified/openai-chat",
      tokensSource: "exact",
      outputTokens: 51,
    });
  });

  it("stores the native demo route's model as the canonical demo/story", async () => {
    const body = { model: "story", stream: true, stream_options: { include_usage: true }, messages };
    await (await post("/demo/v1/chat/completions", body, { "x-resumable": "false" })).text();
    expect(await lineFor("demo/story")).toMatchObject({
      route: "native/openai-chat",
      tokensSource: "exact",
      outputTokens: 51,
    });
  });

  it("estimates a native stream whose client did not ask for usage (the body is forwarded as is)", async () => {
    const body = { model: "story", stream: true, messages };
    await (await post("/demo/v1/chat/completions", body, { "x-resumable": "false" })).text();
    const line = await lineFor("demo/story");
    expect(line.tokensSource).toBe("estimated");
    expect(line.outputTokens).toBeGreaterThan(0);
  });
});
