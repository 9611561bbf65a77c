import { spawn } from "node:child_process";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { type CliIo, EXIT, main } from "../../../scripts/ttft.ts";

const ACCOUNT = "0123456789abcdef0123456789abcdef";
const TOKEN = "test-token-do-not-print";

interface Captured {
  readonly method: string | undefined;
  readonly url: string | undefined;
  readonly authorization: string | undefined;
  readonly body: string;
}

/** A stand-in for the Analytics Engine SQL API on a random loopback port. */
async function standIn(
  status: number,
  answer: string,
): Promise<{ base: string; requests: Captured[]; server: Server }> {
  const requests: Captured[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      requests.push({
        method: req.method,
        url: req.url,
        authorization: req.headers.authorization,
        body: Buffer.concat(chunks).toString("utf8"),
      });
      res.writeHead(status, { "content-type": "application/json" });
      res.end(answer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { base: `http://127.0.0.1:${port}/client/v4`, requests, server };
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
});

function capture(): CliIo & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (t) => stdout.push(t), err: (t) => stderr.push(t), fetch: globalThis.fetch };
}

/** What the SQL API answers with `FORMAT JSON`, including 64-bit integers as strings. */
const CANNED = JSON.stringify({
  meta: [
    { name: "model", type: "String" },
    { name: "streams", type: "UInt64" },
  ],
  data: [
    {
      model: "gpt-4o-mini",
      streams: "1840",
      first_token_streams: "1822",
      ttft_p50_ms: 412,
      ttft_p90_ms: 690,
      ttft_p99_ms: 1480,
      overhead_p50_ms: 3,
      overhead_p99_ms: 41,
      tokens_per_s_p50: 87.3,
      within_slo: 0.9312,
    },
    {
      model: "claude-sonnet-4-5",
      streams: "310",
      first_token_streams: "301",
      ttft_p50_ms: 905,
      ttft_p90_ms: 1650,
      ttft_p99_ms: 3120,
      overhead_p50_ms: 4,
      overhead_p99_ms: 55,
      tokens_per_s_p50: 61,
      within_slo: 0.4161,
    },
  ],
  rows: 2,
  rows_before_limit_at_least: 2,
});

const EXPECTED_TABLE = `TTFT over the last 1h, all models (times in ms, SLO 800 ms)
model              streams  1st token  ttft p50   p90   p99  overhead p50  p99  tok/s p50  <= 800 ms
-----------------  -------  ---------  --------  ----  ----  ------------  ---  ---------  ---------
gpt-4o-mini           1840       1822       412   690  1480             3   41       87.3      93.1%
claude-sonnet-4-5      310        301       905  1650  3120             4   55       61.0      41.6%
`;

describe("ttft CLI against a stand-in SQL API", () => {
  it("POSTs the SQL with the bearer token to the account's endpoint and prints the table", async () => {
    const api = await standIn(200, CANNED);
    servers.push(api.server);
    const io = capture();
    const env = { CLOUDFLARE_ACCOUNT_ID: ACCOUNT, CLOUDFLARE_API_TOKEN: TOKEN, CF_API_BASE: api.base };
    const code = await main(["--since", "1h", "--model", "gpt-4o-mini", "--slo", "800"], env, io);
    expect(io.stderr).toEqual([]);
    expect(code).toBe(EXIT.ok);
    expect(api.requests).toHaveLength(1);
    const request = api.requests[0];
    expect(request?.method).toBe("POST");
    expect(request?.url).toBe(`/client/v4/accounts/${ACCOUNT}/analytics_engine/sql`);
    expect(request?.authorization).toBe(`Bearer ${TOKEN}`);
    expect(request?.body).toMatch(/^SELECT\n/);
    expect(request?.body).toContain(
      "WHERE timestamp > NOW() - INTERVAL '1' HOUR\n  AND blob3 = 'gpt-4o-mini'",
    );
    expect(request?.body).toContain("double1 <= 800");
    expect(io.stdout.join("")).toBe(EXPECTED_TABLE.replace("all models", "model gpt-4o-mini"));
  });

  it("names the missing variables and sends nothing", async () => {
    const io = capture();
    const code = await main([], { CLOUDFLARE_API_TOKEN: TOKEN }, io);
    expect(code).toBe(EXIT.failed);
    expect(io.stderr.join("")).toContain("set CLOUDFLARE_ACCOUNT_ID (");
    const both = capture();
    expect(await main([], {}, both)).toBe(EXIT.failed);
    expect(both.stderr.join("")).toContain("CLOUDFLARE_ACCOUNT_ID and CLOUDFLARE_API_TOKEN");
  });

  it("refuses an account ID that would change the URL path", async () => {
    const io = capture();
    const env = { CLOUDFLARE_ACCOUNT_ID: "../../zones", CLOUDFLARE_API_TOKEN: TOKEN };
    expect(await main([], env, io)).toBe(EXIT.failed);
    expect(io.stderr.join("")).toContain("CLOUDFLARE_ACCOUNT_ID");
  });

  it("reports an HTTP error with the API's message but never the token", async () => {
    const api = await standIn(
      401,
      JSON.stringify({ errors: [{ code: 10000, message: "Authentication error" }] }),
    );
    servers.push(api.server);
    const io = capture();
    const env = { CLOUDFLARE_ACCOUNT_ID: ACCOUNT, CLOUDFLARE_API_TOKEN: TOKEN, CF_API_BASE: api.base };
    expect(await main([], env, io)).toBe(EXIT.failed);
    const err = io.stderr.join("");
    expect(err).toContain("HTTP 401");
    expect(err).toContain("Account Analytics: Read");
    expect(err).toContain("Authentication error");
    expect(err).not.toContain(TOKEN);
    expect(io.stdout).toEqual([]);
  });

  it("reports an answer that is not JSON or has no data", async () => {
    const html = await standIn(200, "<html>gateway timeout</html>");
    const empty = await standIn(200, JSON.stringify({ meta: [], rows: 0 }));
    servers.push(html.server, empty.server);
    const env = { CLOUDFLARE_ACCOUNT_ID: ACCOUNT, CLOUDFLARE_API_TOKEN: TOKEN };
    const a = capture();
    expect(await main([], { ...env, CF_API_BASE: html.base }, a)).toBe(EXIT.failed);
    expect(a.stderr.join("")).toContain("not JSON");
    const b = capture();
    expect(await main([], { ...env, CF_API_BASE: empty.base }, b)).toBe(EXIT.failed);
    expect(b.stderr.join("")).toContain("no data array");
  });

  it("reports an unreachable API", async () => {
    const api = await standIn(200, CANNED);
    const base = api.base;
    await new Promise<void>((resolve) => api.server.close(() => resolve()));
    const io = capture();
    const env = { CLOUDFLARE_ACCOUNT_ID: ACCOUNT, CLOUDFLARE_API_TOKEN: TOKEN, CF_API_BASE: base };
    expect(await main([], env, io)).toBe(EXIT.failed);
    expect(io.stderr.join("")).toContain("could not reach");
  });

  it("rejects injection in --model with a usage error before any request", async () => {
    const api = await standIn(200, CANNED);
    servers.push(api.server);
    const io = capture();
    const env = { CLOUDFLARE_ACCOUNT_ID: ACCOUNT, CLOUDFLARE_API_TOKEN: TOKEN, CF_API_BASE: api.base };
    expect(await main(["--model", "x' OR '1'='1"], env, io)).toBe(EXIT.usage);
    expect(io.stderr.join("")).toContain("usage:");
    expect(api.requests).toEqual([]);
  });

  it("runs as a plain node script in strip-types mode and prints the same table", async () => {
    const api = await standIn(200, CANNED);
    servers.push(api.server);
    const script = fileURLToPath(new URL("../../../scripts/ttft.ts", import.meta.url));
    const child = spawn(
      process.execPath,
      ["--experimental-strip-types", "--no-warnings", script, "--since", "1h"],
      {
        env: {
          PATH: process.env.PATH,
          CLOUDFLARE_ACCOUNT_ID: ACCOUNT,
          CLOUDFLARE_API_TOKEN: TOKEN,
          CF_API_BASE: api.base,
        },
      },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => {
      stdout += c.toString("utf8");
    });
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString("utf8");
    });
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(stdout).toBe(EXPECTED_TABLE);
    expect(api.requests[0]?.authorization).toBe(`Bearer ${TOKEN}`);
  });
});
