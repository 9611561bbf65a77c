import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalGateway, startGateway } from "../support/gateway.ts";
import { deployedRateLimits, npmStartVars } from "./npm-start.ts";

// The rate-limit bindings and LOCAL_RATE_LIMIT both count in windows aligned to the wall clock.
const WINDOW_MS = 60_000;
/** More than a burst of requests below takes, even on a busy machine. */
const EDGE_MARGIN_MS = 10_000;

/** Waits for the next window if this one ends within the margin, so a burst is counted in one window. */
async function awayFromWindowEdge(): Promise<void> {
  const left = WINDOW_MS - (Date.now() % WINDOW_MS);
  if (left < EDGE_MARGIN_MS) await new Promise((r) => setTimeout(r, left + 50));
}

/** `n` anonymous requests from one client, one after the other: their statuses in order. */
async function anonymousBurst(g: LocalGateway, n: number, ip: string): Promise<Response[]> {
  await awayFromWindowEdge();
  const answers: Response[] = [];
  for (let i = 0; i < n; i++) {
    const res = await fetch(new URL("/demo/v1/chat/completions", g.url), {
      method: "POST",
      headers: { "content-type": "application/json", "cf-connecting-ip": ip },
      body: JSON.stringify({ model: "echo", messages: [{ role: "user", content: "hi" }] }),
    });
    await res.arrayBuffer();
    answers.push(res);
  }
  return answers;
}

const demoPace = { DEMO_FIRST_TOKEN_MS: "0", DEMO_TOKEN_INTERVAL_MS: "0" };
let local: LocalGateway;
let deployed: LocalGateway;
let strictLocal: LocalGateway;

beforeAll(async () => {
  // Both run wrangler.toml's rate-limit bindings; `local` adds exactly what `npm start` adds.
  const limits = await deployedRateLimits();
  const anonymous = { ALLOW_ANONYMOUS: "true", ANONYMOUS_MODELS: "demo/*", ...demoPace };
  [local, deployed, strictLocal] = await Promise.all([
    startGateway({ ...anonymous, ...npmStartVars() }, limits),
    startGateway(anonymous, limits),
    startGateway({ ...anonymous, ...npmStartVars(), LOCAL_RATE_LIMIT: "3" }, limits),
  ]);
});

afterAll(async () => {
  await Promise.all([local?.dispose(), deployed?.dispose(), strictLocal?.dispose()]);
});

describe("rate limits under npm start and deployed", () => {
  it("npm start sets a generous LOCAL_RATE_LIMIT", () => {
    expect(Number(npmStartVars().LOCAL_RATE_LIMIT)).toBeGreaterThanOrEqual(300);
  });

  it("lets an anonymous caller of npm start make far more than the deployed 10 requests a minute", async () => {
    const answers = await anonymousBurst(local, 30, "198.51.100.1");
    expect(answers.map((r) => r.status)).toEqual(Array(30).fill(200));
  });

  it("keeps the deployed default strict: the 11th anonymous request in a minute is a 429", async () => {
    expect((await deployedRateLimits()).RATE_LIMIT_ANONYMOUS?.limit).toBe(10);
    const answers = await anonymousBurst(deployed, 11, "198.51.100.2");
    expect(answers.map((r) => r.status)).toEqual([...Array(10).fill(200), 429]);
    expect(answers[10]?.headers.get("retry-after")).toBe("60");
  });

  it("takes the local limit from the variable, without editing wrangler.toml", async () => {
    const answers = await anonymousBurst(strictLocal, 4, "198.51.100.3");
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 429]);
    expect(answers[3]?.headers.get("retry-after")).toBe("60");
  });
});
