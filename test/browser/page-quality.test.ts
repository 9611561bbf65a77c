import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  answerEnded,
  clipboardContext,
  clipboardText,
  launchChromium,
  openDemo,
  screenshot,
  sendWithEnter,
} from "./support/chromium.ts";
import { SCRIPTED_MODEL, type ScriptedGateway, startScriptedGateway } from "./support/scripted-upstream.ts";

// The page's globals, for the functions that run inside Chromium.
declare const document: {
  activeElement: { id: string } | null;
  documentElement: { scrollWidth: number; clientWidth: number };
  querySelector(selector: string): { scrollWidth: number; clientWidth: number } | null;
};

let browser: Browser;
let scripted: ScriptedGateway;

beforeAll(async () => {
  browser = await launchChromium();
  scripted = await startScriptedGateway();
});

afterAll(async () => {
  await browser?.close();
  await scripted?.dispose();
});

/** Presses `key` until the element with `id` has the focus; fails after `most` presses. */
async function pressUntilFocused(page: Page, key: string, id: string, most = 12): Promise<number> {
  for (let presses = 1; presses <= most; presses++) {
    await page.keyboard.press(key);
    if ((await page.evaluate(() => document.activeElement?.id)) === id) return presses;
  }
  throw new Error(`#${id} never got the focus with ${key}`);
}

describe("the demo page", () => {
  it("loads and answers without a console error or a failed request, the favicon included", async () => {
    const context = await clipboardContext(browser);
    const page = await context.newPage();
    const problems: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error") problems.push(`console: ${m.text()}`);
    });
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    page.on("requestfailed", (r) => problems.push(`failed: ${r.url()} ${r.failure()?.errorText ?? ""}`));
    page.on("response", (r) => {
      if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
    });
    const requested: string[] = [];
    page.on("request", (r) => requested.push(new URL(r.url()).pathname));
    await page.goto(scripted.gateway.url.href);
    await page.waitForSelector("#model option[value='demo/story']", { state: "attached" });
    await page.click("#send");
    expect(await answerEnded(page)).toBe("done");
    expect(await page.getAttribute("link[rel='icon']", "href")).toMatch(/^data:image\/svg\+xml,/);
    expect(requested).not.toContain("/favicon.ico");
    expect(problems).toEqual([]);
    await context.close();
  });

  it("works with the keyboard alone: prompt, send, copy, stop and New chat", async () => {
    const page = await openDemo(browser, scripted.gateway.url, "demo/echo");
    // The prompt is the first stop from the top of the page.
    expect(await pressUntilFocused(page, "Tab", "prompt")).toBe(1);
    await page.keyboard.press("Control+A");
    await page.keyboard.type("Hello from the keyboard");
    await page.keyboard.press("Enter");
    expect(await answerEnded(page)).toBe("done");
    expect(await page.textContent("#answer")).toBe("You said: Hello from the keyboard");
    // Back from the prompt to the answer's copy button, which Enter presses.
    await pressUntilFocused(page, "Shift+Tab", "");
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("");
    expect(await page.locator(".turn .copy:focus").count()).toBe(1);
    await page.keyboard.press("Enter");
    await page.waitForSelector(".turn .copy[data-copied='true']");
    expect(await clipboardText(page)).toBe("You said: Hello from the keyboard");
    await pressUntilFocused(page, "Tab", "prompt");
    // The story is long enough to stop half way; Escape stops it from the prompt.
    await page.selectOption("#model", "demo/story");
    await page.focus("#prompt");
    await page.keyboard.type("Tell me a story");
    await page.keyboard.press("Enter");
    await page.waitForSelector("#log[data-state='streaming']");
    await page.keyboard.press("Escape");
    expect(await answerEnded(page)).toBe("stopped");
    await screenshot(page, "keyboard-only");
    await pressUntilFocused(page, "Tab", "new-chat");
    await page.keyboard.press("Enter");
    expect(await page.locator(".turn").count()).toBe(0);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("prompt");
    await page.context().close();
  });

  it("fits a phone: no horizontal scroll at 390×844, with a long code line and the curl line", async () => {
    const context = await clipboardContext(browser, {
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
    });
    const long = `const url = "${"https://example.com/".repeat(8)}";`;
    scripted.answer([
      `Here is a long line:\n\n\`\`\`js\n${long}\n\`\`\`\n\n`,
      `And a long word: ${"x".repeat(120)}.`,
    ]);
    const page = await openDemo(browser, scripted.gateway.url, SCRIPTED_MODEL, context);
    await sendWithEnter(page, `A long question: ${"y".repeat(120)}`);
    expect(await answerEnded(page)).toBe("done");
    const widths = await page.evaluate(() => ({
      page: document.documentElement.scrollWidth,
      viewport: document.documentElement.clientWidth,
      code: document.querySelector("#answer pre")?.scrollWidth ?? 0,
      codeBox: document.querySelector("#answer pre")?.clientWidth ?? 0,
    }));
    expect(widths.page).toBeLessThanOrEqual(widths.viewport);
    // The long line scrolls inside its own box instead of widening the page.
    expect(widths.code).toBeGreaterThan(widths.codeBox);
    await screenshot(page, "phone-390x844");
    await context.close();
  });
});
