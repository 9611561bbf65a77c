import { mkdirSync } from "node:fs";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";

// The flags this machine needs: no sandbox as root, and no background networking (the network is closed).
// Even so Chromium looks up Google hosts (safe browsing, variations); the resolver rule answers every
// name "not found" without asking DNS, except the loopback address every test page is served on.
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
];

// The page's globals, for the functions that run inside Chromium.
declare const document: { body: { dataset: Record<string, string | undefined> } };
declare const navigator: { clipboard: { readText(): Promise<string> } };

/** Where browser tests write their screenshots (test-output/ is the test run's output folder). */
const SHOTS = "test-output/browser";

/** Debian's Chromium, as every browser test drives it. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
}

/** A context whose pages may write and read the clipboard (the copy buttons). */
export function clipboardContext(browser: Browser, options: Parameters<Browser["newContext"]>[0] = {}) {
  return browser.newContext({ permissions: ["clipboard-read", "clipboard-write"], ...options });
}

/** Writes a full-page screenshot to test-output/browser/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
}

/** What the clipboard holds, read inside the page (the context must grant clipboard-read). */
export function clipboardText(page: Page): Promise<string> {
  return page.evaluate(() => navigator.clipboard.readText());
}

/**
 * Opens the demo page on `base` with `model` selected (once the gateway's list has it) and returns
 * the page; `context` defaults to a fresh one with clipboard rights.
 */
export async function openDemo(
  browser: Browser,
  base: URL,
  model = "demo/story",
  context?: BrowserContext,
): Promise<Page> {
  const page = await (context ?? (await clipboardContext(browser))).newPage();
  await page.goto(base.href);
  await page.waitForSelector(`#model option[value='${model}']`, { state: "attached" });
  await page.selectOption("#model", model);
  return page;
}

/** Replaces the prompt's text and sends it with Enter, as a person at the keyboard would. */
export async function sendWithEnter(page: Page, text: string): Promise<void> {
  await page.fill("#prompt", text);
  await page.focus("#prompt");
  await page.keyboard.press("Enter");
}

/** Waits until the current answer ended (`document.body.dataset.ended`) and returns how. */
export async function answerEnded(page: Page): Promise<string> {
  const handle = await page.waitForFunction(() => document.body.dataset.ended, undefined, {
    timeout: 30_000,
  });
  return String(await handle.jsonValue());
}
