import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatMs } from "../../public/demo/stream-facts.ts";
import { DEMO_MODELS } from "../../src/upstream/demo/script.ts";
import { type LocalGateway, startGateway } from "../support/gateway.ts";
import { answerEnded, clipboardText, launchChromium, openDemo, screenshot } from "./support/chromium.ts";

const run = promisify(execFile);
const STORY = DEMO_MODELS.story?.("") ?? "";

let browser: Browser;
let gateway: LocalGateway;

beforeAll(async () => {
  browser = await launchChromium();
  gateway = await startGateway({ DEMO_FIRST_TOKEN_MS: "100", DEMO_TOKEN_INTERVAL_MS: "20" });
});

afterAll(async () => {
  await browser?.close();
  await gateway?.dispose();
});

/** The text of a chat stream's data events, and its `: timings` comment parsed. */
function readStream(body: string): { text: string; done: boolean; timings: Record<string, unknown> | null } {
  let text = "";
  let done = false;
  let timings: Record<string, unknown> | null = null;
  for (const line of body.split("\n")) {
    if (line === "data: [DONE]") done = true;
    else if (line.startsWith("data: ")) {
      const chunk = JSON.parse(line.slice(6)) as { choices?: { delta?: { content?: string } }[] };
      text += chunk.choices?.[0]?.delta?.content ?? "";
    } else if (line.startsWith(": timings ")) timings = JSON.parse(line.slice(10)) as Record<string, unknown>;
  }
  return { text, done, timings };
}

describe("the demo page shows the stream's own facts", () => {
  it("shows the gateway's timings from the stream's closing comment next to its own TTFT", async () => {
    const page = await openDemo(browser, gateway.url);
    await page.click("#send");
    expect(await answerEnded(page)).toBe("done");
    const id = (await page.textContent("#stream-id")) ?? "";
    // The same stream read again ends with the same comment, stored like any event.
    const replay = await fetch(new URL(`/v1/streams/${id}`, gateway.url));
    const { timings } = readStream(await replay.text());
    expect(timings).not.toBeNull();
    const cells = {
      gatewayTtft: await page.textContent("#gateway-ttft"),
      upstreamTtft: await page.textContent("#upstream-ttft"),
      overhead: await page.textContent("#overhead"),
      holdback: await page.textContent("#holdback"),
    };
    expect(cells).toEqual({
      gatewayTtft: formatMs(Number(timings?.gatewayTtftMs)),
      upstreamTtft: formatMs(Number(timings?.upstreamTtftMs)),
      overhead: formatMs(Number(timings?.overheadMs)),
      holdback: formatMs(Number(timings?.holdbackMs)),
    });
    expect(await page.textContent("#ttft")).toMatch(/^\d+(\.\d)? ms$/);
    await screenshot(page, "stream-facts");
    await page.context().close();
  });

  it("shows the full stream id, copies it, and gives a curl line that reads the stream again", async () => {
    const page = await openDemo(browser, gateway.url);
    const posted = page.waitForResponse((res) => res.url().endsWith("/v1/chat/completions"));
    await page.click("#send");
    const header = (await posted).headers()["x-stream-id"];
    expect(await answerEnded(page)).toBe("done");
    const id = await page.textContent("#stream-id");
    expect(id).toMatch(/^[a-z0-9]{1,8}-\d{1,4}\.[A-Za-z0-9_-]{22}$/); // `<host>.<128 random bits>`
    expect(id).toBe(header);
    await page.click("#copy-stream-id");
    await page.waitForSelector("#copy-stream-id[data-copied='true']");
    expect(await clipboardText(page)).toBe(id);
    const curl = (await page.textContent("#resume-curl")) ?? "";
    expect(curl).toBe(`curl -N '${new URL(`/v1/streams/${id}`, gateway.url).href}' -H 'Last-Event-ID: 0'`);
    await page.click("#copy-curl");
    await page.waitForSelector("#copy-curl[data-copied='true']");
    expect(await clipboardText(page)).toBe(curl);
    // The line itself, run by a shell: the whole answer again, to [DONE] and the timings.
    const { stdout } = await run("bash", ["-c", `${curl} --silent --show-error --max-time 20`]);
    const replay = readStream(stdout);
    expect(replay.text).toBe(STORY);
    expect(replay.done).toBe(true);
    expect(replay.timings).not.toBeNull();
    await page.context().close();
  });
});
