import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalGateway, startGateway } from "../support/gateway.ts";
import { MockUpstream, type ReceivedRequest, startSse } from "../support/mock-upstream.ts";
import { readToEnd } from "../support/read-to-end.ts";

/**
 * Silence on either side, through the real worker: keep-alive comments while an upstream thinks
 * (never numbered, never stored, none while tokens flow), and the stall watchdog that ends an answer
 * whose upstream went quiet with an explicit `upstream_stalled`, aborting the upstream.
 */
const mock = new MockUpstream();
let gateway: LocalGateway;

const chunk = (content: string) =>
  `data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":${JSON.stringify(content)}},"finish_reason":null}]}\n\n`;
const END =
  'data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n';

beforeAll(async () => {
  await mock.start();
  gateway = await startGateway({
    OPENAI_BASE_URL: `${mock.baseUrl}/openai/v1`,
    OPENAI_API_KEY: "sk-e2e-openai",
    KEEPALIVE_MS: "200",
    STREAM_IDLE_TIMEOUT_MS: "600",
    FIRST_TOKEN_TIMEOUT_MS: "500",
    RETRY_ATTEMPTS: "1",
  });
});

afterAll(async () => {
  await gateway.dispose();
  await mock.stop();
});

function post(resumable: boolean): Promise<Response> {
  return fetch(new URL("/openai/v1/chat/completions", gateway.url), {
    method: "POST",
    headers: { "content-type": "application/json", "x-resumable": String(resumable) },
    body: JSON.stringify({ model: "gpt", stream: true }),
  });
}

/** The upstream writes `before`, is silent for `pauseMs`, then writes `after` and ends. */
function pausing(before: string, pauseMs: number, after: string): void {
  mock.handle(async (_req, res) => {
    startSse(res);
    res.write(before);
    await new Promise((r) => setTimeout(r, pauseMs));
    if (!res.destroyed) res.end(after);
  });
}

const keepAlives = (text: string) => text.match(/^: keepalive$/gm)?.length ?? 0;

describe("keep-alives", () => {
  for (const resumable of [false, true]) {
    const mode = resumable ? "resumable" : "direct";
    it(`writes an SSE comment while the upstream is silent (${mode}), and none while tokens flow`, async () => {
      pausing(chunk("Hello"), 550, `${chunk(" world")}${END}`);
      const res = await post(resumable);
      const text = await readToEnd(res);
      // 550 ms of silence (under the 600 ms idle limit) at one comment per 200 ms.
      expect(keepAlives(text)).toBeGreaterThanOrEqual(2);
      expect(text).toContain("Hello");
      expect(text).toContain(" world");
      // The content is unchanged around them: the comments sit between whole events.
      expect(text.replace(/^: keepalive\n\n/gm, "")).toContain(`${chunk("Hello").trimEnd()}`);
      if (resumable) {
        // Never numbered, never stored: a replay has none, and the event ids run without a gap.
        const id = res.headers.get("x-stream-id");
        const replay = await readToEnd(await fetch(new URL(`/v1/streams/${id}`, gateway.url)));
        expect(keepAlives(replay)).toBe(0);
        const ids = [...replay.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
        expect(ids).toEqual(ids.map((_, i) => i + 1));
      }
    });
  }

  it("writes none when the answer flows without a pause", async () => {
    mock.handle((_req, res) => {
      startSse(res);
      res.end(`${chunk("a")}${chunk("b")}${END}`);
    });
    expect(keepAlives(await readToEnd(await post(false)))).toBe(0);
  });
});

describe("the stall watchdog", () => {
  /** The upstream writes `before`, then holds its connection without a byte; resolves the request. */
  function hanging(before: string): Promise<ReceivedRequest> {
    return new Promise((resolve) => {
      mock.handle((req, res) => {
        startSse(res);
        res.write(before);
        resolve(req);
      });
    });
  }

  for (const resumable of [false, true]) {
    const mode = resumable ? "resumable" : "direct";
    it(`ends an answer whose upstream went quiet mid-answer with upstream_stalled (${mode})`, async () => {
      const upstream = hanging(chunk("Hel"));
      const res = await post(resumable);
      const text = await readToEnd(res, 10_000);
      expect(text).toContain("Hel");
      expect(text).toMatch(/"code":"upstream_stalled"/);
      expect(text).toContain("sent nothing for 600 ms");
      // The upstream was aborted: no more tokens paid for.
      await (await upstream).closed;
      if (resumable) {
        const status = (await (
          await fetch(new URL(`/v1/streams/${res.headers.get("x-stream-id")}/status`, gateway.url))
        ).json()) as { state: string; detail: string };
        expect(status.state).toBe("interrupted");
        expect(status.detail).toMatch(/^upstream_stalled: /);
      }
    });
  }

  it("ends an answer whose upstream sends no first token within FIRST_TOKEN_TIMEOUT_MS", async () => {
    const upstream = hanging(
      'data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}\n\n',
    );
    const text = await readToEnd(await post(false), 10_000);
    expect(text).toMatch(/"code":"upstream_stalled"/);
    expect(text).toContain("no first token within 500 ms");
    await (await upstream).closed;
  });
});
