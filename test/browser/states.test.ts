import type { Browser, Page, Route } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { answerEnded, launchChromium, openDemo, screenshot, sendWithEnter } from "./support/chromium.ts";
import {
  BLOCKED_TERM,
  gate,
  SCRIPTED_MODEL,
  type ScriptedGateway,
  startScriptedGateway,
  textOf,
} from "./support/scripted-upstream.ts";

// The page's globals, for the functions that run inside Chromium.
declare const document: {
  getElementById(
    id: string,
  ): { textContent: string | null; dataset: Record<string, string | undefined> } | null;
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

/** Waits until the status line is in `state` and returns what it says. */
async function statusIn(page: Page, state: string): Promise<string> {
  await page.waitForSelector(`#log[data-state='${state}']`, { timeout: 30_000 });
  return (await page.textContent("#log")) ?? "";
}

/** Waits until the newest answer shows `text` (it renders once per frame). */
async function answerShows(page: Page, text: string): Promise<void> {
  await page.waitForFunction((t) => document.getElementById("answer")?.textContent === t, text);
}

/** The status line's states so far, in order. */
async function history(page: Page): Promise<string[]> {
  return ((await page.getAttribute("#log", "data-history")) ?? "").split(" ");
}

/** Holds every resume request (GET /v1/streams/{id}) until the returned function lets them through. */
async function holdResumes(page: Page, answer: (route: Route) => Promise<void>): Promise<void> {
  await page.route(
    (url) => url.pathname.startsWith("/v1/streams/"),
    (route) => answer(route),
  );
}

describe("the demo page says what the answer is doing", () => {
  it("waits for the first token counting the time, then streams, then says it is complete", async () => {
    const first = gate();
    const middle = gate();
    // Each piece before a gate ends in a full stop: the guardrail holds back a trailing space (a
    // blocked term could start after it) until more text comes, and the test waits on what is shown.
    const steps = [first, "Half of ", "it,", middle, " and the rest."];
    scripted.answer(steps);
    const page = await openDemo(browser, scripted.gateway.url, SCRIPTED_MODEL);
    await sendWithEnter(page, "Take your time");
    const waiting = await statusIn(page, "waiting");
    expect(waiting).toMatch(/^Waiting for the first token… \d+\.\d s$/);
    // The elapsed time counts up while nothing has arrived.
    await page.waitForFunction((before) => document.getElementById("log")?.textContent !== before, waiting);
    expect(await page.textContent("#log")).toMatch(/^Waiting for the first token… \d+\.\d s$/);
    await screenshot(page, "state-waiting");
    first.open();
    await answerShows(page, "Half of it,");
    expect(await statusIn(page, "streaming")).toBe("Streaming… 11 characters so far.");
    await screenshot(page, "state-streaming");
    middle.open();
    expect(await answerEnded(page)).toBe("done");
    expect(await page.textContent("#log")).toMatch(/^Complete: \d+ events, finish reason stop\.$/);
    expect(await history(page)).toEqual(["waiting", "streaming", "done"]);
    await page.context().close();
  });

  it("says it is resuming, with what was kept, and that it resumed with nothing lost", async () => {
    const middle = gate();
    const steps = ["Kept before ", "the drop.", middle, " After the resume."];
    scripted.answer(steps);
    const page = await openDemo(browser, scripted.gateway.url, SCRIPTED_MODEL);
    const resume = gate();
    await holdResumes(page, async (route) => {
      await resume.opened;
      await route.continue();
    });
    await sendWithEnter(page, "Drop me");
    await answerShows(page, "Kept before the drop.");
    await page.click("#drop");
    const resuming = await statusIn(page, "resuming");
    expect(resuming).toMatch(/^Connection lost — resuming \(attempt 1\) after event \d+\. /);
    expect(resuming).toContain("The 21 characters received so far are kept.");
    expect(await page.textContent("#answer")).toBe("Kept before the drop.");
    expect(await page.getAttribute(".turn", "data-state")).toBe("resuming");
    await screenshot(page, "state-resuming");
    resume.open();
    expect(await statusIn(page, "resumed")).toMatch(
      /^Resumed after event \d+: kept 21 characters, nothing lost or repeated\.$/,
    );
    middle.open();
    expect(await answerEnded(page)).toBe("done");
    expect(await page.textContent("#answer")).toBe(textOf(steps));
    expect(await page.textContent("#resumes")).toBe("1");
    expect(await history(page)).toEqual(expect.arrayContaining(["resuming", "resumed", "done"]));
    await page.context().close();
  });

  it("says the user stopped it, neutrally, keeps the partial answer and stops the upstream", async () => {
    const hold = gate();
    scripted.answer(["Enough of ", "this.", hold, "Never sent."]);
    const page = await openDemo(browser, scripted.gateway.url, SCRIPTED_MODEL);
    await sendWithEnter(page, "Stop me");
    await answerShows(page, "Enough of this.");
    const upstream = scripted.mock.requests.at(-1);
    await page.click("#stop");
    expect(await answerEnded(page)).toBe("stopped");
    expect(await page.textContent("#log")).toBe("Stopped by you after 15 characters.");
    expect(await page.getAttribute("#log", "data-tone")).toBe("neutral");
    expect(await page.locator("#log.error").count()).toBe(0);
    expect(await page.textContent(".turn .turn-note")).toBe("Stopped by you.");
    expect(await page.locator("#answer.incomplete").count()).toBe(0);
    expect(await page.textContent("#answer")).toBe("Enough of this.");
    // The stop reached the provider: the gateway closed the upstream request.
    await upstream?.closed;
    await screenshot(page, "state-stopped");
    hold.open();
    await page.context().close();
  });

  it("says the guardrail stopped it, and shows nothing of what it withheld", async () => {
    scripted.answer(["The plan is ", "called ", `${BLOCKED_TERM} and `, "it is secret."]);
    const page = await openDemo(browser, scripted.gateway.url, SCRIPTED_MODEL);
    await sendWithEnter(page, "What is the plan?");
    expect(await answerEnded(page)).toBe("guardrail");
    expect(await page.textContent("#log")).toMatch(
      /^Stopped by the guardrail after \d+ characters: the rest of the answer was withheld\.$/,
    );
    expect(await page.getAttribute("#log", "data-tone")).toBe("notice");
    expect(await page.textContent(".turn .turn-note")).toBe("Stopped by the guardrail.");
    const shown = (await page.textContent("#answer")) ?? "";
    expect(shown.startsWith("The plan is")).toBe(true);
    expect(shown).not.toContain(BLOCKED_TERM);
    await screenshot(page, "state-guardrail");
    await page.context().close();
  });

  it("says the stream was interrupted and marks the partial answer incomplete", async () => {
    const hold = gate();
    scripted.answer(["Only this ", "much arrived.", hold, "The rest."]);
    const page = await openDemo(browser, scripted.gateway.url, SCRIPTED_MODEL);
    // The gateway forgetting the stream (404 on resume) is the end of resuming.
    await holdResumes(page, (route) =>
      route.fulfill({
        status: 404,
        contentType: "application/json",
        body: JSON.stringify({ error: { message: "no stream with this id", code: "stream_not_found" } }),
      }),
    );
    await sendWithEnter(page, "Break me");
    await answerShows(page, "Only this much arrived.");
    await page.click("#drop");
    expect(await answerEnded(page)).toBe("interrupted");
    expect(await page.textContent("#log")).toBe(
      "Interrupted after 23 characters: the gateway no longer knows this stream. The answer is incomplete.",
    );
    expect(await page.locator("#log.error").count()).toBe(1);
    expect(await page.locator("#answer.incomplete").count()).toBe(1);
    expect(await page.textContent(".turn .turn-note")).toBe(
      "Incomplete: the stream ended before the answer did.",
    );
    expect(await page.textContent("#answer")).toBe("Only this much arrived.");
    // The curl line picks up after the last event the page had.
    expect(await page.textContent("#resume-curl")).toMatch(/-H 'Last-Event-ID: [1-9]\d*'$/);
    await screenshot(page, "state-interrupted");
    hold.open();
    await page.context().close();
  });
});
