import { mkdirSync } from "node:fs";
import http, { type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalGateway, startGateway } from "../support/gateway.ts";
import { launchChromium } from "./support/chromium.ts";

// The page's globals, for the functions that run inside Chromium.
declare const document: {
  body: { dataset: Record<string, string | undefined> };
  querySelectorAll(selector: string): ArrayLike<{ dataset: Record<string, string | undefined> }>;
};

/** The panel's cadence (public/index.html): 12 events 150 ms apart. */
const EVENTS = 12;
const SPAN_MS = 11 * 150;

let browser: Browser;
let gateway: LocalGateway;
let buffering: Server;
let bufferingUrl = "";

/** A same-origin proxy for the whole site that holds event streams until they end, like a buffering layer. */
async function bufferingProxy(target: URL): Promise<Server> {
  const server = http.createServer((req, res) => {
    const upstream = http.request(new URL(req.url ?? "/", target), {
      method: req.method,
      headers: { ...req.headers, host: target.host },
    });
    upstream.on("response", (up) => {
      const parts: Buffer[] = [];
      up.on("data", (d: Buffer) => parts.push(d));
      up.on("end", () => {
        const headers = { ...up.headers };
        delete headers["transfer-encoding"];
        res.writeHead(up.statusCode ?? 502, headers).end(Buffer.concat(parts));
      });
    });
    upstream.on("error", () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return server;
}

beforeAll(async () => {
  browser = await launchChromium();
  gateway = await startGateway();
  buffering = await bufferingProxy(gateway.url);
  bufferingUrl = `http://127.0.0.1:${(buffering.address() as AddressInfo).port}/`;
});

afterAll(async () => {
  await browser?.close();
  buffering?.closeAllConnections();
  await new Promise<void>((resolve) => (buffering ? buffering.close(() => resolve()) : resolve()));
  await gateway?.dispose();
});

interface Drawn {
  readonly verdict: string | undefined;
  readonly text: string | null;
  readonly points: { seq: number; emitted: number; arrived: number }[];
}

/** Opens the demo page at `url`, runs "Check this path" and returns what the panel drew. */
async function checkFrom(url: string, screenshot: string): Promise<Drawn> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(url);
  await page.click("#probe-run");
  await page.waitForFunction(() => document.body.dataset.probeVerdict !== undefined, undefined, {
    timeout: 20_000,
  });
  const points = await page.evaluate(() =>
    Array.from(document.querySelectorAll("#probe-chart circle.point"), (c) => ({
      seq: Number(c.dataset.seq),
      emitted: Number(c.dataset.emitted),
      arrived: Number(c.dataset.arrived),
    })),
  );
  const drawn = {
    verdict: await page.evaluate(() => document.body.dataset.probeVerdict),
    text: await page.textContent("#probe-verdict"),
    points,
  };
  mkdirSync("test-output/browser", { recursive: true });
  await page.screenshot({ path: `test-output/browser/${screenshot}.png`, fullPage: true });
  await context.close();
  return drawn;
}

describe("the demo page's Check this path panel in Chromium", () => {
  it("draws every event on the diagonal and says the path streams", async () => {
    const drawn = await checkFrom(gateway.url.href, "doctor-panel-streaming");
    expect(drawn.verdict).toBe("streaming");
    expect(drawn.text).toBe(`Streaming: all ${EVENTS} events arrived one by one.`);
    expect(drawn.points.map((p) => p.seq)).toEqual(Array.from({ length: EVENTS }, (_, i) => i + 1));
    // The diagonal: every event arrives after the one before it and the arrivals spread over the
    // emissions' span (a buffered path piles them at the end). No tight bound on the difference: a
    // loaded machine delays some deliveries, and the verdict above already judged the cadence.
    expect(drawn.points.at(-1)?.emitted).toBeGreaterThan(SPAN_MS * 0.9);
    const arrivals = drawn.points.map((p) => p.arrived);
    expect(arrivals).toEqual([...arrivals].sort((a, b) => a - b));
    expect((arrivals.at(-1) ?? 0) - (arrivals[0] ?? 0)).toBeGreaterThan(SPAN_MS * 0.5);
  });

  it("draws a flat line and says fully buffered behind a proxy that holds the stream", async () => {
    const drawn = await checkFrom(bufferingUrl, "doctor-panel-buffered");
    expect(drawn.verdict).toBe("buffered");
    expect(drawn.text).toContain("fully buffered");
    expect(drawn.points).toHaveLength(EVENTS);
    // Sent over more than a second and a half, arrived within a moment of each other.
    expect(drawn.points.at(-1)?.emitted).toBeGreaterThan(SPAN_MS * 0.9);
    for (const p of drawn.points) expect(p.arrived).toBeLessThan(50);
  });
});
