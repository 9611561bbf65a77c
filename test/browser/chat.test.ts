import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  answerEnded,
  clipboardText,
  launchChromium,
  openDemo,
  screenshot,
  sendWithEnter,
} from "./support/chromium.ts";
import {
  gate,
  messagesOf,
  SCRIPTED_MODEL,
  type ScriptedGateway,
  startScriptedGateway,
  textOf,
} from "./support/scripted-upstream.ts";

// The page's globals, for the functions that run inside Chromium.
declare const document: {
  querySelectorAll(selector: string): ArrayLike<unknown>;
};
declare const window: { __xss?: unknown };

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

describe("the demo page as a chat", () => {
  it("sends with Enter, adds a line with Shift+Enter, clears the prompt and shows the message as typed", async () => {
    scripted.answer(["Two lines, ", "got them."]);
    const page = await openDemo(browser, scripted.gateway.url, SCRIPTED_MODEL);
    const before = scripted.mock.requests.length;
    await page.fill("#prompt", "");
    await page.focus("#prompt");
    await page.keyboard.type("line one");
    await page.keyboard.press("Shift+Enter");
    await page.keyboard.type("line two");
    // Shift+Enter only added a line: nothing was sent yet.
    expect(await page.inputValue("#prompt")).toBe("line one\nline two");
    expect(scripted.mock.requests.length).toBe(before);
    await page.keyboard.press("Enter");
    expect(await answerEnded(page)).toBe("done");
    expect(await page.inputValue("#prompt")).toBe("");
    expect(await page.textContent(".turn .user-text")).toBe("line one\nline two");
    expect(await page.textContent("#answer")).toBe("Two lines, got them.");
    expect(messagesOf(scripted.mock.requests.at(-1))).toEqual([
      { role: "user", content: "line one\nline two" },
    ]);
    await screenshot(page, "chat-enter-sends");
    await page.context().close();
  });

  it("sends earlier turns to the upstream as history, Ctrl+Enter sends too, and New chat forgets them", async () => {
    const page = await openDemo(browser, scripted.gateway.url, SCRIPTED_MODEL);
    scripted.answer(["The first ", "answer."]);
    await sendWithEnter(page, "First question");
    expect(await answerEnded(page)).toBe("done");
    scripted.answer(["The second ", "answer."]);
    await page.fill("#prompt", "Second question");
    await page.focus("#prompt");
    await page.keyboard.press("Control+Enter");
    expect(await answerEnded(page)).toBe("done");
    // What the upstream received: the whole conversation, in order.
    expect(messagesOf(scripted.mock.requests.at(-1))).toEqual([
      { role: "user", content: "First question" },
      { role: "assistant", content: "The first answer." },
      { role: "user", content: "Second question" },
    ]);
    expect(await page.locator(".turn").count()).toBe(2);
    expect(await page.locator(".turn .answer").allTextContents()).toEqual([
      "The first answer.",
      "The second answer.",
    ]);
    await screenshot(page, "chat-two-turns");
    await page.click("#new-chat");
    expect(await page.locator(".turn").count()).toBe(0);
    scripted.answer(["Fresh."]);
    await sendWithEnter(page, "Third question");
    expect(await answerEnded(page)).toBe("done");
    expect(messagesOf(scripted.mock.requests.at(-1))).toEqual([{ role: "user", content: "Third question" }]);
    await page.context().close();
  });

  it("New chat while an answer streams stops it, and the screen stays clear", async () => {
    const hold = gate();
    scripted.answer(["Half an ", "answer.", hold, " Never shown."]);
    const page = await openDemo(browser, scripted.gateway.url, SCRIPTED_MODEL);
    await sendWithEnter(page, "Interrupt me with a new chat");
    await page.waitForSelector("#log[data-state='streaming']");
    const upstream = scripted.mock.requests.at(-1);
    await page.click("#new-chat");
    expect(await answerEnded(page)).toBe("stopped");
    expect(await page.locator(".turn").count()).toBe(0);
    expect(await page.getAttribute("#log", "data-state")).toBe("idle");
    expect(await page.isHidden("#stream")).toBe(true);
    // The stop reached the provider: the gateway closed the upstream request.
    await upstream?.closed;
    hold.open();
    await page.context().close();
  });

  it("renders Markdown as elements and the model's markup as text that never runs", async () => {
    const steps = [
      "Intro with `inline <b>code</b>` and **bold**.\n\n",
      "- item one\n- item <img src=x onerror=\"window.__xss='list'\">\n\n",
      "1. first\n2. second\n\n",
      "```html\n<script>window.__xss = 'fence'</script>\n<img src=x onerror=\"window.__xss='fence-img'\">\n```\n\n",
      "Closing <img src=x onerror=\"window.__xss='text'\"> and <script>window.__xss='script'</script>",
    ];
    scripted.answer(steps);
    const page = await openDemo(browser, scripted.gateway.url, SCRIPTED_MODEL);
    await sendWithEnter(page, "Show me <img src=x onerror=\"window.__xss='prompt'\">");
    expect(await answerEnded(page)).toBe("done");
    expect(await page.locator("#answer > p").count()).toBe(2);
    expect(await page.locator("#answer > ul > li").allTextContents()).toEqual([
      "item one",
      "item <img src=x onerror=\"window.__xss='list'\">",
    ]);
    expect(await page.locator("#answer > ol > li").allTextContents()).toEqual(["first", "second"]);
    expect(await page.textContent("#answer > p > code")).toBe("inline <b>code</b>");
    expect(await page.textContent("#answer > p > strong")).toBe("bold");
    expect(await page.textContent("#answer > pre > code")).toBe(
      "<script>window.__xss = 'fence'</script>\n<img src=x onerror=\"window.__xss='fence-img'\">",
    );
    expect(await page.textContent(".turn .user-text")).toBe(
      "Show me <img src=x onerror=\"window.__xss='prompt'\">",
    );
    // No element came from the model's or the user's text, so nothing could run.
    const elements = await page.evaluate(() => ({
      img: document.querySelectorAll("img").length,
      script: document.querySelectorAll("#conversation script").length,
      b: document.querySelectorAll("#conversation b").length,
      xss: window.__xss,
    }));
    expect(elements).toEqual({ img: 0, script: 0, b: 0, xss: undefined });
    await screenshot(page, "chat-markdown");
    await page.context().close();
  });

  it("copies an answer's text, as the model wrote it, with the answer's copy button", async () => {
    const steps = ["Copy **this**:\n\n", "- a `list`\n"];
    scripted.answer(steps);
    const page = await openDemo(browser, scripted.gateway.url, SCRIPTED_MODEL);
    await sendWithEnter(page, "Something to copy");
    expect(await answerEnded(page)).toBe("done");
    await page.click(".turn .copy");
    await page.waitForSelector(".turn .copy[data-copied='true']");
    expect(await page.textContent(".turn .copy")).toBe("Copied");
    expect(await clipboardText(page)).toBe(textOf(steps));
    await page.context().close();
  });
});
