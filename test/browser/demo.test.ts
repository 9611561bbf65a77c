import { lookup } from "node:dns/promises";
import { mkdirSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_MODELS } from "../../src/upstream/demo/script.ts";
import { type LocalGateway, startGateway } from "../support/gateway.ts";
import { launchChromium } from "./support/chromium.ts";

// The page's globals, for the functions that run inside Chromium.
declare const document: {
  body: { dataset: Record<string, string | undefined> };
  getElementById(id: string): { textContent: string | null } | null;
};

const STORY = DEMO_MODELS.story?.("") ?? "";
let browser: Browser;
let gateway: LocalGateway;
let strict: LocalGateway;
let otherOrigin: Server;
let otherUrl = "";

beforeAll(async () => {
  browser = await launchChromium();
  // A second local origin: a page there calls the gateway cross-origin.
  otherOrigin = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/html" }).end("<!doctype html><title>other origin</title>");
  });
  await new Promise<void>((r) => otherOrigin.listen(0, "127.0.0.1", r));
  otherUrl = `http://127.0.0.1:${(otherOrigin.address() as AddressInfo).port}`;
  gateway = await startGateway({
    DEMO_FIRST_TOKEN_MS: "150",
    DEMO_TOKEN_INTERVAL_MS: "40",
    ALLOWED_ORIGINS: otherUrl,
  });
  strict = await startGateway({ DEMO_FIRST_TOKEN_MS: "0", DEMO_TOKEN_INTERVAL_MS: "0" });
});

afterAll(async () => {
  await browser?.close();
  await gateway?.dispose();
  await strict?.dispose();
  await new Promise<void>((r) => otherOrigin.close(() => r()));
});

/** Opens the demo page, sends the default prompt to demo/story, and returns the page. */
async function sendFromDemoPage(context: Awaited<ReturnType<Browser["newContext"]>>) {
  const page = await context.newPage();
  await page.goto(gateway.url.href);
  await page.waitForSelector("#model option[value='demo/story']", { state: "attached" });
  await page.click("#send");
  return page;
}

describe("the demo page in Chromium", () => {
  it("shows the first token long before the answer is complete, and the whole answer once", async () => {
    const context = await browser.newContext();
    const page = await sendFromDemoPage(context);
    await page.waitForFunction(() => document.body.dataset.done === "true", undefined, { timeout: 30_000 });
    const timing = await page.evaluate(() => ({
      first: Number(document.body.dataset.firstTokenAt),
      done: Number(document.body.dataset.doneAt),
    }));
    expect(timing.first).toBeGreaterThan(0);
    // ~60 tokens 40 ms apart: the first one must come well before the last.
    expect(timing.done - timing.first).toBeGreaterThan(1000);
    expect(await page.textContent("#answer")).toBe(STORY);
    expect(await page.textContent("#ttft")).toMatch(/^\d+ ms$/);
    mkdirSync("test-output/browser", { recursive: true });
    await page.screenshot({ path: "test-output/browser/demo-finished.png", fullPage: true });
    await context.close();
  });

  it("going offline mid-answer and back gives the complete answer exactly once", async () => {
    const context = await browser.newContext();
    const page = await sendFromDemoPage(context);
    await page.waitForFunction(() => (document.getElementById("answer")?.textContent ?? "").length > 40);
    await context.setOffline(true);
    // Chromium keeps an established stream alive when going offline, so cut it while offline: every
    // resume attempt then fails until the network is back.
    await page.click("#drop");
    await page.waitForTimeout(600);
    await context.setOffline(false);
    await page.waitForFunction(
      () => document.body.dataset.done === "true" || document.body.dataset.error,
      undefined,
      {
        timeout: 30_000,
      },
    );
    expect(await page.evaluate(() => document.body.dataset.error)).toBeUndefined();
    expect(await page.textContent("#answer")).toBe(STORY);
    expect(Number(await page.textContent("#resumes"))).toBeGreaterThanOrEqual(1);
    await context.close();
  });

  it("the drop-connection control cuts the stream and it resumes to the same answer", async () => {
    const context = await browser.newContext();
    const page = await sendFromDemoPage(context);
    await page.waitForFunction(() => (document.getElementById("answer")?.textContent ?? "").length > 20);
    await page.click("#drop");
    await page.waitForFunction(() => document.body.dataset.done === "true", undefined, { timeout: 30_000 });
    expect(await page.textContent("#answer")).toBe(STORY);
    expect(Number(await page.textContent("#resumes"))).toBeGreaterThanOrEqual(1);
    await context.close();
  });
});

describe("cross-origin pages", () => {
  /** From a page on the other origin, streams a demo answer from `base` and reports the outcome. */
  async function callFromOtherOrigin(
    base: string,
  ): Promise<{ ok: boolean; text?: string; streamId?: string | null; error?: string }> {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(otherUrl);
    const result = await page.evaluate(async (url) => {
      try {
        const res = await fetch(`${url}v1/chat/completions`, {
          method: "POST",
          headers: { "content-type": "application/json", "x-stainless-lang": "js" },
          body: JSON.stringify({
            model: "demo/echo",
            stream: true,
            messages: [{ role: "user", content: "hi there" }],
          }),
        });
        return { ok: true, text: await res.text(), streamId: res.headers.get("x-stream-id") };
      } catch (err) {
        return { ok: false, error: String(err) };
      }
    }, base);
    await context.close();
    return result;
  }

  it("can call the gateway when its origin is allowed, and read x-stream-id", async () => {
    const result = await callFromOtherOrigin(gateway.url.href);
    expect(result.ok).toBe(true);
    expect(result.text).toContain('"content":" there"');
    expect(result.streamId).toMatch(/^[a-z0-9]{1,8}-\d{1,4}\.[A-Za-z0-9_-]{22}$/); // `<host>.<128 random bits>`
  });

  it("is refused by a gateway that does not allow its origin", async () => {
    const result = await callFromOtherOrigin(strict.url.href);
    expect(result.ok).toBe(false);
    expect(result.error).toMatch(/Failed to fetch/);
  });
});

describe("Chromium's network use", () => {
  it("resolves no host name: not even one the system resolves to this machine's loopback", async () => {
    // This machine's own name resolves (via /etc/hosts) to the loopback address the gateway listens on,
    // so without the resolver rule Chromium would load the demo page from it.
    const name = os.hostname();
    const resolved = await lookup(name, { family: 4 }).then(
      (a) => a.address,
      () => undefined,
    );
    const context = await browser.newContext();
    const page = await context.newPage();
    const error = await page.goto(`http://${name}:${gateway.url.port}/`).then(
      () => "loaded",
      (e: unknown) => String(e),
    );
    await context.close();
    expect(error, `${name} resolves to ${resolved ?? "nothing"} for the system`).toContain(
      "net::ERR_NAME_NOT_RESOLVED",
    );
  });
});
