import http, { type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import zlib from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalGateway, startGateway } from "../support/gateway.ts";
import { CADENCE, doctorOn, eachOnItsOwn, heldToTheEnd, spread, timeBody, why } from "./doctor-support.ts";

// Every verdict, proven without any package: small proxies written here sit between the doctor and
// the real gateway and do, on purpose, what misconfigured layers do by accident.

/** What a proxy does with the gateway's response. */
type Mode = (upstream: IncomingMessage, req: IncomingMessage, res: ServerResponse) => void;

const SSE_HEADERS = (upstream: IncomingMessage): Record<string, string> => {
  const headers: Record<string, string> = {};
  for (const name of ["content-type", "cache-control", "x-accel-buffering"]) {
    const v = upstream.headers[name];
    if (typeof v === "string") headers[name] = v;
  }
  return headers;
};

const MODES = {
  // Forwards every piece the moment it arrives.
  passthrough: (up, _req, res) => {
    res.writeHead(up.statusCode ?? 502, SSE_HEADERS(up));
    res.flushHeaders();
    up.on("data", (d: Buffer) => res.write(d));
    up.on("end", () => res.end());
  },
  // Collects the whole body, then sends it with a content-length.
  buffering: (up, _req, res) => {
    const parts: Buffer[] = [];
    up.on("data", (d: Buffer) => parts.push(d));
    up.on("end", () => {
      const body = Buffer.concat(parts);
      res.writeHead(up.statusCode ?? 502, { ...SSE_HEADERS(up), "content-length": String(body.byteLength) });
      res.end(body);
    });
  },
  // Releases what it holds every 300 ms: bursts of about three events at the tests' 100 ms cadence.
  coalescing: (up, _req, res) => {
    res.writeHead(up.statusCode ?? 502, SSE_HEADERS(up));
    res.flushHeaders();
    let held: Buffer[] = [];
    const release = () => {
      if (held.length > 0) res.write(Buffer.concat(held));
      held = [];
    };
    const timer = setInterval(release, 300);
    up.on("data", (d: Buffer) => held.push(d));
    up.on("end", () => {
      clearInterval(timer);
      release();
      res.end();
    });
  },
  // Gzips for clients that accept it, flushing after every piece: compressed, yet event by event.
  gzipFlushing: (up, req, res) => {
    if (!String(req.headers["accept-encoding"] ?? "").includes("gzip"))
      return MODES.passthrough(up, req, res);
    res.writeHead(up.statusCode ?? 502, { ...SSE_HEADERS(up), "content-encoding": "gzip" });
    const gz = zlib.createGzip();
    gz.on("data", (d: Buffer) => res.write(d));
    gz.on("end", () => res.end());
    up.on("data", (d: Buffer) => {
      gz.write(d);
      gz.flush(zlib.constants.Z_SYNC_FLUSH);
    });
    up.on("end", () => gz.end());
  },
  // Brotli without flushing, as a compressor tuned for files would: everything at the end.
  brotliBuffering: (up, req, res) => {
    if (!String(req.headers["accept-encoding"] ?? "").includes("br")) return MODES.passthrough(up, req, res);
    res.writeHead(up.statusCode ?? 502, { ...SSE_HEADERS(up), "content-encoding": "br" });
    const br = zlib.createBrotliCompress();
    br.on("data", (d: Buffer) => res.write(d));
    br.on("end", () => res.end());
    up.pipe(br);
  },
  // Closes the client's connection after one second without data from the gateway.
  idleCut: (up, req, res) => {
    MODES.passthrough(up, req, res);
    let timer = setTimeout(() => res.destroy(), 1000);
    up.on("data", () => {
      clearTimeout(timer);
      timer = setTimeout(() => res.destroy(), 1000);
    });
    up.on("end", () => clearTimeout(timer));
  },
} satisfies Record<string, Mode>;
type ModeName = keyof typeof MODES;

let gateway: LocalGateway;
const proxies: Server[] = [];
const urls = {} as Record<ModeName, string>;

/** A loopback proxy to the gateway that treats responses the way `mode` says. */
async function proxy(mode: Mode): Promise<string> {
  const server = http.createServer((req, res) => {
    const upstream = http.request(new URL(req.url ?? "/", gateway.url), {
      method: req.method,
      headers: { ...req.headers, host: gateway.url.host, "accept-encoding": "identity" },
    });
    upstream.on("response", (up) => mode(up, req, res));
    upstream.on("error", () => res.destroy());
    req.pipe(upstream);
    // The client left (or was cut): stop the gateway's answer too.
    res.on("close", () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  proxies.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  // wrangler.toml's own ANONYMOUS_MODELS ("demo/*") and guardrail (enforce): the probe must need no
  // key and pass the guardrail untouched.
  gateway = await startGateway({ ANONYMOUS_MODELS: "demo/*" });
  for (const name of Object.keys(MODES) as ModeName[]) urls[name] = await proxy(MODES[name]);
});

afterAll(async () => {
  for (const s of proxies) s.closeAllConnections();
  await Promise.all(proxies.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  await gateway?.dispose();
});

describe("the probe through the gateway", () => {
  it("is open to anonymous callers and passes the enforce guardrail with no hold-back, stamps intact", async () => {
    const res = await fetch(new URL("/v1/chat/completions", gateway.url), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: "demo/probe",
        stream: true,
        messages: [{ role: "user", content: "probe" }],
        probe: { events: 4, intervalMs: 20, payloadBytes: 64 },
      }),
    });
    expect(res.status).toBe(200);
    const text = await res.text();
    const stamps = [...text.matchAll(/"probe":\{"seq":(\d+),"sentAt":\d+,"padding":"[a-z]{64}"\}/g)].map(
      (m) => m[1],
    );
    expect(stamps).toEqual(["1", "2", "3", "4"]);
    const timings = JSON.parse(/^: timings (.*)$/m.exec(text)?.[1] ?? "{}") as { holdbackMs?: number };
    expect(timings.holdbackMs).toBe(0);
    expect(text).toContain("data: [DONE]");
  });

  it("answers a bad probe parameter with a 400 naming the field", async () => {
    const res = await fetch(new URL("/v1/chat/completions", gateway.url), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: "demo/probe",
        stream: true,
        messages: [{ role: "user", content: "probe" }],
        probe: { pauseMs: -5 },
      }),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { message: string } };
    expect(body.error.message).toContain('"probe.pauseMs" must be an integer between 0 and 600000');
  });
});

describe("the doctor's verdicts, through hand-written proxies", () => {
  it("streaming: the gateway alone and a passthrough proxy deliver every event on its own", async () => {
    for (const url of [gateway.url.href, urls.passthrough]) {
      const r = await doctorOn(url);
      expect(r.ok).toBe(true);
      expect(r.identity.verdict.kind).toBe("streaming");
      expect(eachOnItsOwn(r.compressed.verdict), why(r.compressed.verdict)).toBe(true);
    }
  });

  it("fully buffered: a proxy that collects the body, noticed by its content-length", async () => {
    expect(heldToTheEnd(await timeBody(urls.buffering, "identity"))).toBe(true);
    const r = await doctorOn(urls.buffering);
    for (const probe of [r.compressed, r.identity]) {
      expect(probe.verdict.kind).toBe("buffered");
      expect(probe.verdict.problems).toContainEqual(
        expect.objectContaining({ kind: "buffered", contentLength: true }),
      );
      expect(probe.advice[0]?.summary).toContain("content-length");
    }
  });

  it("coalescing: a proxy that releases every 300 ms, with the burst size", async () => {
    const r = await doctorOn(urls.coalescing);
    for (const probe of [r.compressed, r.identity]) {
      expect(probe.verdict.kind).toBe("coalescing");
      const c = probe.verdict.problems.find((p) => p.kind === "coalescing");
      expect(c?.kind === "coalescing" && c.largestBurst).toBeGreaterThanOrEqual(2);
      expect(c?.kind === "coalescing" && c.largestBurst).toBeLessThanOrEqual(4);
    }
  });

  it("compressed: gzip flushed per event is decoded piece by piece and still flagged", async () => {
    const timing = await timeBody(urls.gzipFlushing, "gzip, deflate, br");
    expect(timing.contentEncoding).toBe("gzip");
    expect(spread(timing)).toBe(true);
    const r = await doctorOn(urls.gzipFlushing);
    expect(r.compressed.verdict.kind).toBe("compressed");
    expect(r.compressed.verdict.received).toBe(CADENCE.events);
    expect(eachOnItsOwn(r.compressed.verdict), why(r.compressed.verdict)).toBe(true);
    expect(r.identity.verdict.kind).toBe("streaming");
    expect(r.ok).toBe(false);
  });

  it("compressed and buffered: Brotli without flushing holds everything for clients that accept it", async () => {
    const r = await doctorOn(urls.brotliBuffering);
    expect(r.compressed.verdict.problems.map((p) => p.kind)).toEqual(["buffered", "compressed"]);
    expect(r.compressed.verdict.received).toBe(CADENCE.events);
    expect(r.identity.verdict.kind).toBe("streaming");
  });

  it("cut: a one-second idle timeout ends the stream in the pause, and the doctor says when", async () => {
    const r = await doctorOn(urls.idleCut, { events: 6, pauseMs: 2500 });
    for (const probe of [r.compressed, r.identity]) {
      expect(probe.verdict.kind).toBe("cut");
      const cut = probe.verdict.problems.find((p) => p.kind === "cut");
      expect(cut).toMatchObject({ afterEvent: 3, duringPause: true });
      expect(cut?.kind === "cut" && cut.idleMs).toBeGreaterThan(800);
      expect(cut?.kind === "cut" && cut.idleMs).toBeLessThan(1600);
      expect(probe.record.end.kind).toBe("reset");
    }
  });
});
