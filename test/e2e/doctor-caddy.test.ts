import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalGateway, startGateway } from "../support/gateway.ts";
import { DOC_GATEWAY, documentedConfig } from "./doctor-configs.ts";
import {
  binary,
  CADENCE,
  doctorOn,
  freePort,
  heldToTheEnd,
  type Proc,
  spread,
  startProcess,
  tempFolder,
  timeBody,
} from "./doctor-support.ts";

// Debian's Caddy 2.6.2 in front of the gateway: the guide's site block, and the configurations
// measured to hold the stream. One Caddy, one loopback site per variant.
const VARIANTS = {
  recommended: "",
  // encode compresses when the first write is over minimum_length (512 B): 400 B of padding per event.
  encode: "encode gzip\n  reverse_proxy UPSTREAM",
  bufferResponses: "reverse_proxy UPSTREAM {\n    buffer_responses\n  }",
  // Ignored for event streams, per Caddy's documentation: it still streams.
  flushInterval: "reverse_proxy UPSTREAM {\n    flush_interval 5s\n  }",
} as const;
type Variant = keyof typeof VARIANTS;

/** Events big enough for encode's 512-byte minimum, so the encode variant really compresses. */
const BIG = { payloadBytes: 400 } as const;

let gateway: LocalGateway;
let caddy: Proc;
let folder: ReturnType<typeof tempFolder>;
const urls = {} as Record<Variant, string>;

beforeAll(async () => {
  gateway = await startGateway();
  folder = tempFolder("caddy");
  const upstream = gateway.url.host;
  const sites: string[] = [];
  for (const name of Object.keys(VARIANTS) as Variant[]) {
    const port = await freePort();
    urls[name] = `http://127.0.0.1:${port}`;
    sites.push(
      name === "recommended"
        ? documentedConfig("caddy")
            .replace("gateway.example.com", `http://127.0.0.1:${port}`)
            .replaceAll(DOC_GATEWAY, upstream)
        : `http://127.0.0.1:${port} {\n  ${VARIANTS[name].replaceAll("UPSTREAM", upstream)}\n}`,
    );
  }
  const file = path.join(folder.dir, "Caddyfile");
  // No admin endpoint and no automatic HTTPS: nothing but the test's loopback sites listens.
  writeFileSync(file, `{\n  admin off\n  auto_https off\n}\n${sites.join("\n")}\n`);
  const ports = Object.values(urls).map((u) => Number(new URL(u).port));
  caddy = await startProcess(binary("caddy"), ["run", "--config", file, "--adapter", "caddyfile"], ports, {
    HOME: folder.dir,
    XDG_DATA_HOME: path.join(folder.dir, "data"),
    XDG_CONFIG_HOME: path.join(folder.dir, "config"),
  });
});

afterAll(async () => {
  await caddy?.stop();
  await gateway?.dispose();
  folder?.remove();
});

describe("the doctor behind Debian's Caddy", () => {
  it("finds the recommended configuration streaming, small and large events alike", async () => {
    for (const over of [{}, BIG]) {
      const r = await doctorOn(urls.recommended, over);
      expect(r.ok).toBe(true);
      for (const probe of [r.compressed, r.identity]) {
        expect(probe.verdict.kind).toBe("streaming");
        expect(probe.record.headers.server).toBe("Caddy");
      }
    }
  });

  it("finds encode compressing large events and holding them to the end, and names the fix", async () => {
    expect(heldToTheEnd(await timeBody(urls.encode, "gzip, deflate, br", { ...CADENCE, ...BIG }))).toBe(true);
    expect(spread(await timeBody(urls.encode, "identity", { ...CADENCE, ...BIG }))).toBe(true);
    const r = await doctorOn(urls.encode, BIG);
    expect(r.compressed.verdict.problems.map((p) => p.kind)).toEqual(["buffered", "compressed"]);
    expect(r.identity.verdict.kind).toBe("streaming");
    const fix = r.compressed.advice.find((a) => a.problem === "compressed");
    expect(fix?.layer).toBe("Caddy (server: Caddy)");
    expect(fix?.fix).toContain("encode");
    expect(fix?.doc).toBe("docs/proxies.md#caddy");
  });

  it("finds buffer_responses fully buffered for every client", async () => {
    expect(heldToTheEnd(await timeBody(urls.bufferResponses, "identity"))).toBe(true);
    const r = await doctorOn(urls.bufferResponses);
    for (const probe of [r.compressed, r.identity]) {
      expect(probe.verdict.kind).toBe("buffered");
      expect(probe.advice[0]?.fix).toContain("buffer_responses");
    }
  });

  it("cannot make Caddy buffer an event stream with flush_interval", async () => {
    expect(spread(await timeBody(urls.flushInterval, "identity"))).toBe(true);
    const r = await doctorOn(urls.flushInterval);
    expect(r.ok).toBe(true);
  });
});
