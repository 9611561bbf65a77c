import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { build } from "esbuild";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalGateway, startGateway } from "../support/gateway.ts";
import { MockUpstream, startSse } from "../support/mock-upstream.ts";
import { launchChromium } from "./support/chromium.ts";

// A React page on `@ai-sdk/react`'s useChat (test/browser/fixtures/use-chat-page.ts, bundled here with
// esbuild), served from its own origin and talking to the gateway cross-origin, in real Chromium.

const TOKENS = ["Once ", "upon ", "a ", "time ", "a ", "page ", "reloaded ", "and ", "read ", "on."];
const HEAD = 4;

const mock = new MockUpstream();
let browser: Browser;
let gateway: LocalGateway;
let site: Server;
let siteUrl = "";

/** The upstream writes the first HEAD tokens, then holds the answer open until `release()`. */
let release = () => {};

function chunk(delta: Record<string, unknown>, finish: string | null = null): string {
  const choice = { index: 0, delta, finish_reason: finish };
  return `data: ${JSON.stringify({ id: "chatcmpl-page", object: "chat.completion.chunk", created: 1, model: "m", choices: [choice] })}\n\n`;
}

beforeAll(async () => {
  const bundle = await build({
    entryPoints: [path.resolve("test/browser/fixtures/use-chat-page.ts")],
    bundle: true,
    format: "esm",
    platform: "browser",
    write: false,
    define: { "process.env.NODE_ENV": '"production"' },
  });
  const js = bundle.outputFiles[0]?.text ?? "";
  site = createServer((req, res) => {
    if (req.url === "/app.js") res.writeHead(200, { "content-type": "text/javascript" }).end(js);
    else
      res
        .writeHead(200, { "content-type": "text/html" })
        .end(
          '<!doctype html><title>useChat</title><div id="root"></div><script type="module" src="/app.js"></script>',
        );
  });
  await new Promise<void>((r) => site.listen(0, "127.0.0.1", r));
  siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
  await mock.start();
  mock.handle(async (_req, res) => {
    const held = new Promise<void>((r) => {
      release = r;
    });
    startSse(res);
    for (const t of TOKENS.slice(0, HEAD)) res.write(chunk({ content: t }));
    await held;
    for (const t of TOKENS.slice(HEAD)) res.write(chunk({ content: t }));
    res.end(`${chunk({}, "stop")}data: [DONE]\n\n`);
  });
  gateway = await startGateway({
    OPENAI_BASE_URL: `${mock.baseUrl}/openai/v1`,
    OPENAI_API_KEY: "sk-e2e-openai",
    ALLOWED_ORIGINS: siteUrl,
  });
  browser = await launchChromium();
});

afterAll(async () => {
  release();
  await browser?.close();
  await gateway?.dispose();
  await mock.stop();
  await new Promise<void>((r) => site.close(() => r()));
});

describe("useChat (@ai-sdk/react) on /v1/ui/chat in Chromium", () => {
  it("streams the answer, and a page reloaded mid-answer resumes it to the end, once", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const calls: string[] = [];
    page.on("request", (r) => {
      if (r.url().startsWith(gateway.url.origin)) calls.push(`${r.method()} ${new URL(r.url()).pathname}`);
    });
    const chatId = `chat-${crypto.randomUUID()}`;
    const streamPath = `/v1/ui/chat/${chatId}/stream`;
    const url = `${siteUrl}/?gateway=${encodeURIComponent(gateway.url.origin)}&chat=${chatId}&model=openai/gpt-4.1-mini`;
    await page.goto(url);
    // On load, useChat asks whether the chat has an answer in progress: a new chat has none (204).
    await page.waitForSelector("#status:text('ready')");
    expect(calls).toEqual([`GET ${streamPath}`]);
    await page.click("#send");
    // Streaming: the first tokens are on the page while the provider still holds the rest.
    const head = TOKENS.slice(0, HEAD).join("");
    await page.waitForSelector(`.message.assistant:text-is('${head}')`);
    // Reload mid-answer; the provider goes on only once the reloaded page's reconnect is answered.
    const reconnected = page.waitForResponse(
      (r) => new URL(r.url()).pathname === streamPath && r.status() === 200,
    );
    await page.reload();
    await reconnected;
    release();
    await page.waitForSelector(`.message.assistant:text-is('${TOKENS.join("")}')`);
    await page.waitForSelector("#status:text('ready')");
    expect(await page.locator(".message.assistant").count()).toBe(1);
    expect(await page.textContent("#error")).toBe("");
    expect(calls).toEqual([`GET ${streamPath}`, "POST /v1/ui/chat", `GET ${streamPath}`]);
    // One generation: the reloaded page read the stored answer, it did not ask the provider again.
    expect(mock.requests).toHaveLength(1);
    await context.close();
  });
});
