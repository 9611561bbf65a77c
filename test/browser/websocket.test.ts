import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_MODELS } from "../../src/upstream/demo/script.ts";
import { type LocalGateway, startGateway } from "../support/gateway.ts";
import { launchChromium, openDemo, screenshot } from "./support/chromium.ts";

// The page's globals, for the functions that run inside Chromium.
declare const document: {
  body: { dataset: Record<string, string | undefined> };
  getElementById(id: string): { textContent: string | null } | null;
};

const STORY = DEMO_MODELS.story?.("") ?? "";
let browser: Browser;
let gateway: LocalGateway;

beforeAll(async () => {
  browser = await launchChromium();
  gateway = await startGateway({ DEMO_FIRST_TOKEN_MS: "100", DEMO_TOKEN_INTERVAL_MS: "40" });
});

afterAll(async () => {
  await browser?.close();
  await gateway?.dispose();
});

describe("the demo page over the gateway's WebSocket in Chromium", () => {
  it("streams over /v1/ws, survives a dropped socket and shows the whole answer exactly once", async () => {
    const context = await browser.newContext();
    const page = await openDemo(browser, gateway.url, "demo/story", context);
    const sockets: string[] = [];
    const posts: string[] = [];
    page.on("websocket", (ws) => sockets.push(ws.url()));
    page.on("request", (req) => {
      if (req.method() === "POST") posts.push(req.url());
    });
    await page.selectOption("#transport", "websocket");
    await page.click("#send");
    await page.waitForFunction(() => (document.getElementById("answer")?.textContent ?? "").length > 40);
    await page.click("#drop");
    await page.waitForFunction(
      () => document.body.dataset.done === "true" || document.body.dataset.error,
      undefined,
      { timeout: 30_000 },
    );
    expect(await page.evaluate(() => document.body.dataset.error)).toBeUndefined();
    expect(await page.textContent("#answer")).toBe(STORY);
    expect(Number(await page.textContent("#resumes"))).toBeGreaterThanOrEqual(1);
    // Every connection was a socket: the first for chat.create, the next for stream.resume.
    expect(sockets.length).toBeGreaterThanOrEqual(2);
    for (const url of sockets) expect(new URL(url).pathname).toBe("/v1/ws");
    expect(posts).toEqual([]);
    await screenshot(page, "demo-websocket-resumed");
    await context.close();
  });

  it("resumes when the network cuts the socket from the far side, mid-answer", async () => {
    const context = await browser.newContext();
    const page = await openDemo(browser, gateway.url, "demo/story", context);
    let connections = 0;
    // The first socket is relayed to the gateway and cut after 10 of its messages, as a network
    // drop would; later ones pass through untouched.
    await page.routeWebSocket("**/v1/ws*", (ws) => {
      const server = ws.connectToServer();
      if (connections++ > 0) return;
      let relayed = 0;
      server.onMessage((message) => {
        ws.send(message);
        if (++relayed === 10) {
          void ws.close({ code: 4000, reason: "network cut" });
          void server.close();
        }
      });
    });
    await page.selectOption("#transport", "websocket");
    await page.click("#send");
    await page.waitForFunction(
      () => document.body.dataset.done === "true" || document.body.dataset.error,
      undefined,
      { timeout: 30_000 },
    );
    expect(await page.evaluate(() => document.body.dataset.error)).toBeUndefined();
    expect(await page.textContent("#answer")).toBe(STORY);
    expect(connections).toBeGreaterThanOrEqual(2);
    expect(Number(await page.textContent("#resumes"))).toBeGreaterThanOrEqual(1);
    await context.close();
  });

  it("reports StreamInterruptedError on the page when the stream cannot be resumed", async () => {
    const context = await browser.newContext();
    const page = await openDemo(browser, gateway.url, "demo/story", context);
    await page.selectOption("#transport", "websocket");
    await page.click("#send");
    await page.waitForFunction(() => (document.getElementById("answer")?.textContent ?? "").length > 20);
    // From here on every new socket is closed at once, never reaching the gateway: no resume can
    // make progress and the client runs out of retries.
    await page.routeWebSocket("**/v1/ws*", (ws) => ws.close());
    await page.click("#drop");
    const ended = await page.waitForFunction(() => document.body.dataset.ended, undefined, {
      timeout: 60_000,
    });
    expect(await ended.jsonValue()).toBe("interrupted");
    expect(await page.evaluate(() => document.body.dataset.error)).toMatch(/Stream interrupted/);
    await context.close();
  });
});
