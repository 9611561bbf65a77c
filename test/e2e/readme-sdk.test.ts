import { execFile } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_MODELS } from "../../src/upstream/demo/script.ts";
import { type LocalGateway, startGateway } from "../support/gateway.ts";
import { npmStartVars } from "./npm-start.ts";

const run = promisify(execFile);
/** Where the README points its local examples: `npm start`'s address. */
const README_ORIGIN = "http://localhost:8787";

/** The code block between `<!-- readme-test:NAME -->` and `<!-- /readme-test -->` in README.md. */
function readmeSnippet(name: string): string {
  const readme = readFileSync("README.md", "utf8");
  const start = readme.indexOf(`<!-- readme-test:${name} -->`);
  const end = readme.indexOf("<!-- /readme-test -->", start);
  if (start === -1 || end === -1) throw new Error(`README.md has no readme-test:${name} block`);
  const code = /```[a-z]*\n([\s\S]*?)```/.exec(readme.slice(start, end))?.[1];
  if (code === undefined) throw new Error(`the readme-test:${name} block has no code`);
  return code;
}

let gateway: LocalGateway;

beforeAll(async () => {
  // What `npm start` runs: wrangler.toml's vars (demo models only for anonymous callers) plus its --var
  // flags; no GATEWAY_KEYS, no provider keys. Only the demo pace is quicker.
  gateway = await startGateway({
    ANONYMOUS_MODELS: "demo/*",
    ...npmStartVars(),
    DEMO_FIRST_TOKEN_MS: "0",
    DEMO_TOKEN_INTERVAL_MS: "0",
  });
});

afterAll(async () => {
  await gateway?.dispose();
});

describe("the README's SDK example", () => {
  it("runs as written against npm start with the official OpenAI SDK, printing the whole answer", async () => {
    const code = readmeSnippet("sdk-local");
    expect(code).toContain(README_ORIGIN);
    // The one change: this gateway listens on a free port instead of 8787. The file lives inside the
    // project (test-output/) so that `import "openai"` resolves as it does for a reader's hello.mjs.
    const file = path.resolve("test-output/readme/sdk-local.mjs");
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, code.replaceAll(README_ORIGIN, gateway.url.origin));
    // A fresh machine's environment: no OPENAI_API_KEY or GATEWAY_KEY for the SDK to fall back on.
    const env = { PATH: process.env.PATH ?? "" };
    const { stdout } = await run(process.execPath, [file], { timeout: 20_000, env });
    expect(stdout).toBe(DEMO_MODELS.story?.("Hello"));
  });
});
