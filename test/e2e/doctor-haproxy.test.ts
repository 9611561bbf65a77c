import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalGateway, startGateway } from "../support/gateway.ts";
import { DOC_GATEWAY, documentedConfig } from "./doctor-configs.ts";
import {
  binary,
  CADENCE,
  doctorOn,
  eachOnItsOwn,
  freePort,
  heldToTheEnd,
  type Proc,
  startProcess,
  tempFolder,
  timeBody,
  why,
} from "./doctor-support.ts";

// Debian's HAProxy 2.6 in front of the gateway: the guide's configuration on one port, and next to it
// frontends with HAProxy's defaults, compression, wait-for-body and a short server timeout.
let gateway: LocalGateway;
let haproxy: Proc;
let folder: ReturnType<typeof tempFolder>;
const urls = { recommended: "", defaults: "", compression: "", waitForBody: "", shortTimeout: "" };

beforeAll(async () => {
  gateway = await startGateway();
  folder = tempFolder("haproxy");
  const upstream = gateway.url.host;
  for (const name of Object.keys(urls) as (keyof typeof urls)[])
    urls[name] = `http://127.0.0.1:${await freePort()}`;
  const bind = (u: string) => `bind 127.0.0.1:${new URL(u).port}`;
  const recommended = documentedConfig("haproxy")
    .replace("bind 127.0.0.1:8080", bind(urls.recommended))
    .replaceAll(DOC_GATEWAY, upstream);
  // The other frontends come after the guide's sections in their own `defaults` (HAProxy's own
  // defaults, no http-no-delay), so they show what each setting does on its own.
  const variants = `
defaults plain
    mode http
    timeout connect 5s
    timeout client 1h
    timeout server 1h

backend plain_gateway
    server gateway ${upstream}

backend short_gateway
    timeout server 2s
    server gateway ${upstream}

frontend defaults_fe
    ${bind(urls.defaults)}
    default_backend plain_gateway

frontend compression_fe
    ${bind(urls.compression)}
    option http-no-delay
    compression algo gzip
    compression type text/event-stream
    http-response del-header cache-control
    default_backend plain_gateway

frontend wait_fe
    ${bind(urls.waitForBody)}
    option http-no-delay
    http-response wait-for-body time 30s
    default_backend plain_gateway

frontend short_fe
    ${bind(urls.shortTimeout)}
    option http-no-delay
    default_backend short_gateway
`;
  const file = path.join(folder.dir, "haproxy.cfg");
  writeFileSync(file, `global\n    maxconn 100\n\n${recommended}\n${variants}`);
  const ports = Object.values(urls).map((u) => Number(new URL(u).port));
  // -db: stay in the foreground, so the PID the test holds is HAProxy's own.
  haproxy = await startProcess(binary("haproxy"), ["-db", "-f", file], ports);
});

afterAll(async () => {
  await haproxy?.stop();
  await gateway?.dispose();
  folder?.remove();
});

describe("the doctor behind Debian's HAProxy", () => {
  it("finds the recommended configuration streaming: every event on its own", async () => {
    const r = await doctorOn(urls.recommended);
    expect(r.ok).toBe(true);
    for (const probe of [r.compressed, r.identity]) {
      expect(probe.verdict.kind).toBe("streaming");
      expect(eachOnItsOwn(probe.verdict), why(probe.verdict)).toBe(true);
    }
  });

  it("finds HAProxy's defaults coalescing events (MSG_MORE), and no layer named in the headers", async () => {
    // Independently: events are written 100 ms apart, yet pieces come up to ~200 ms apart and fewer
    // than the gateway's writes (8 events, the finish chunk, [DONE], the timings comment).
    const timing = await timeBody(urls.defaults, "identity");
    const gaps = timing.pieces.slice(1).map((p, i) => p.atMs - (timing.pieces[i]?.atMs ?? 0));
    expect(Math.max(...gaps)).toBeGreaterThan(CADENCE.intervalMs * 1.6);
    expect(timing.pieces.length).toBeLessThan(CADENCE.events + 3);
    const r = await doctorOn(urls.defaults);
    for (const probe of [r.compressed, r.identity]) {
      expect(probe.verdict.kind).toBe("coalescing");
      const c = probe.verdict.problems.find((p) => p.kind === "coalescing");
      expect(c?.kind === "coalescing" && c.largestBurst).toBeGreaterThanOrEqual(2);
      expect(probe.advice[0]?.layer).toContain("none named itself");
      expect(probe.advice[0]?.doc).toBe("docs/proxies.md#buffering");
    }
  });

  it("cannot make HAProxy compress the gateway's stream: it honours no-transform", async () => {
    const timing = await timeBody(urls.compression, "gzip, deflate, br");
    expect(timing.contentEncoding).toBeUndefined();
    const r = await doctorOn(urls.compression);
    expect(r.compressed.verdict.kind).toBe("streaming");
    expect(r.compressed.record.headers["content-encoding"]).toBeUndefined();
  });

  it("finds http-response wait-for-body fully buffered", async () => {
    expect(heldToTheEnd(await timeBody(urls.waitForBody, "identity"))).toBe(true);
    const r = await doctorOn(urls.waitForBody);
    for (const probe of [r.compressed, r.identity]) expect(probe.verdict.kind).toBe("buffered");
  });

  it("finds a server timeout shorter than a silent pause cutting the stream", async () => {
    const r = await doctorOn(urls.shortTimeout, { events: 6, pauseMs: 4000 });
    for (const probe of [r.compressed, r.identity]) {
      expect(probe.verdict.kind).toBe("cut");
      const cut = probe.verdict.problems.find((p) => p.kind === "cut");
      expect(cut).toMatchObject({ afterEvent: 3, duringPause: true });
      expect(cut?.kind === "cut" && cut.idleMs).toBeGreaterThan(1500);
      expect(cut?.kind === "cut" && cut.idleMs).toBeLessThan(3000);
    }
  });
});
