import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { endpointOf, parseArgs, parseDuration } from "../../../scripts/doctor/args.ts";
import { main } from "../../../scripts/doctor.ts";

type Handler = (req: IncomingMessage, res: ServerResponse, body: Record<string, unknown>) => void;

/** A loopback server answering every request with `handler`. */
async function serve(handler: Handler): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on("data", (d: Buffer) => parts.push(d));
    req.on("end", () => {
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(Buffer.concat(parts).toString()) as Record<string, unknown>;
      } catch {
        // not JSON: the handler decides
      }
      handler(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/** Writes probe events like the gateway would: `spacing` ms apart, or all at once when `spacing` is 0. */
function probeStream(spacing: number): Handler {
  return (_req, res, body) => {
    const probe = (body.probe ?? {}) as { events?: number };
    const events = probe.events ?? 5;
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
    });
    let seq = 0;
    const chunk = () =>
      `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: " tick" } }], probe: { seq, sentAt: 1e12 + seq * 25 } })}\n\n`;
    if (spacing === 0) {
      // A buffering layer: the whole answer in one write, after the time the events took.
      setTimeout(() => {
        const all: string[] = [];
        for (seq = 1; seq <= events; seq++) all.push(chunk());
        res.end(`${all.join("")}data: [DONE]\n\n`);
      }, events * 25);
      return;
    }
    const timer = setInterval(() => {
      seq++;
      res.write(chunk());
      if (seq === events) {
        clearInterval(timer);
        res.end("data: [DONE]\n\n");
      }
    }, spacing);
  };
}

interface Run {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

async function doctor(args: readonly string[], env: Record<string, string> = {}): Promise<Run> {
  let out = "";
  let err = "";
  const code = await main(args, env, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

const FAST = ["--events", "5", "--interval", "25"];
const servers: Server[] = [];
const urls: Record<string, string> = {};
let refused = "";

beforeAll(async () => {
  const make = async (name: string, handler: Handler) => {
    const s = await serve(handler);
    servers.push(s.server);
    urls[name] = s.url;
  };
  await make("html", (_q, res) =>
    res.writeHead(200, { "content-type": "text/html" }).end("<!doctype html><p>hi"),
  );
  await make("auth", (req, res) =>
    res.writeHead(401, { "content-type": "application/json" }).end(
      JSON.stringify({
        error: { message: req.headers.authorization ? "invalid gateway key" : "missing credentials" },
      }),
    ),
  );
  await make("json", (_q, res) =>
    res.writeHead(200, { "content-type": "application/json" }).end('{"object":"chat.completion"}'),
  );
  await make("missing", (_q, res) =>
    res
      .writeHead(404, { "content-type": "application/json" })
      .end('{"error":{"message":"demo model \\"probe\\" not found"}}'),
  );
  await make("streams", probeStream(25));
  await make("buffers", probeStream(0));
  // A port that was free a moment ago: nothing listens there any more.
  const gone = await serve(() => {});
  refused = gone.url;
  await new Promise<void>((resolve) => gone.server.close(() => resolve()));
});

afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
});

describe("npm run doctor's arguments", () => {
  it("reads durations in ms, s and m, a bare number as seconds", () => {
    expect(parseDuration("75s")).toBe(75_000);
    expect(parseDuration("2m")).toBe(120_000);
    expect(parseDuration("500ms")).toBe(500);
    expect(parseDuration("90")).toBe(90_000);
    expect(parseDuration("soon")).toBeUndefined();
  });

  it("probes <url>/v1/chat/completions, or the completions URL given", () => {
    expect(String(endpointOf("https://gw.example"))).toBe("https://gw.example/v1/chat/completions");
    expect(String(endpointOf("http://localhost:8787/"))).toBe("http://localhost:8787/v1/chat/completions");
    expect(String(endpointOf("https://gw.example/v1/chat/completions"))).toBe(
      "https://gw.example/v1/chat/completions",
    );
    expect(endpointOf("gw.example")).toContain("is not a URL");
  });

  it("takes the key from $GATEWAY_KEY unless --key is given", () => {
    const fromEnv = parseArgs(["http://x.test"], { GATEWAY_KEY: "k1" });
    const fromFlag = parseArgs(["http://x.test", "--key", "k2"], { GATEWAY_KEY: "k1" });
    expect(fromEnv.kind === "run" && fromEnv.options.key).toBe("k1");
    expect(fromFlag.kind === "run" && fromFlag.options.key).toBe("k2");
  });

  it.each([
    [[], "the URL to probe is missing"],
    [["http://x.test", "--pause", "forever"], "--pause must be a duration"],
    [["http://x.test", "--interval", "5"], "--interval must be an integer from 20"],
    [["http://x.test", "--nope"], 'unknown argument "--nope"'],
  ])("refuses %j with exit 2 and the usage", async (args, message) => {
    const r = await doctor(args);
    expect(r.code).toBe(2);
    expect(r.err).toContain(message);
    expect(r.err).toContain("usage: npm run doctor");
  });
});

describe("npm run doctor on bad input: one line, non-zero exit, no stack trace", () => {
  it.each([
    [
      "refused",
      () => refused,
      [] as string[],
      /^doctor: nothing answers at 127\.0\.0\.1:\d+ \(connection refused\)/,
    ],
    ["html", () => urls.html ?? "", [], /answers an HTML page \(HTTP 200\), not an event stream/],
    ["auth", () => urls.auth ?? "", [], /401: the gateway wants a key: pass --key K.*missing credentials/],
    ["json", () => urls.json ?? "", [], /answers JSON instead of an event stream/],
    ["missing", () => urls.missing ?? "", [], /404 at \/v1\/chat\/completions .*not found.*demo\/probe/],
  ])("%s", async (_name, url, extra, message) => {
    const r = await doctor([url(), ...FAST, ...extra]);
    expect(r.code).toBe(3);
    expect(r.out).toBe("");
    expect(r.err).toMatch(message);
    expect(r.err.trim().split("\n")).toHaveLength(1);
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  it("says the key was refused, without ever printing it", async () => {
    const r = await doctor([urls.auth ?? "", ...FAST], { GATEWAY_KEY: "sk-secret-0123456789" });
    expect(r.code).toBe(3);
    expect(r.err).toContain("401: the gateway refused the key (it says: invalid gateway key)");
    expect(r.err).not.toContain("sk-secret");
  });

  it("prints one JSON document for --json even when no probe could run", async () => {
    const r = await doctor([refused, ...FAST, "--json"]);
    expect(r.code).toBe(3);
    expect(JSON.parse(r.out)).toMatchObject({
      ok: false,
      error: expect.stringContaining("connection refused"),
    });
  });
});

describe("npm run doctor on a stream", () => {
  it("passes a path that delivers every event on its own (exit 0) with a short table", async () => {
    const r = await doctor([urls.streams ?? "", ...FAST]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^compressed\s+gzip, deflate, br\s+200\s+1\.1 .* 5\/5\s+streaming/m);
    expect(r.out).toMatch(/^identity\s+identity\s+200 .* streaming/m);
    expect(r.out).toContain("result: the path streams");
    expect(r.out.split("\n").length).toBeLessThan(15);
  });

  it("fails a path that holds everything to the end (exit 1), in text and in JSON", async () => {
    const text = await doctor([urls.buffers ?? "", ...FAST]);
    expect(text.code).toBe(1);
    expect(text.out).toMatch(/fully buffered/);
    expect(text.out).toContain("see docs/proxies.md#buffering");
    const json = await doctor([urls.buffers ?? "", ...FAST, "--json"]);
    expect(json.code).toBe(1);
    const doc = JSON.parse(json.out) as { ok: boolean; probes: { verdict: string; bursts: number[] }[] };
    expect(doc.ok).toBe(false);
    expect(doc.probes.map((p) => p.verdict)).toEqual(["buffered", "buffered"]);
    expect(doc.probes[0]?.bursts).toEqual([5]);
  });
});
