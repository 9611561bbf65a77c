import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalGateway, startGateway } from "../support/gateway.ts";
import { DOC_GATEWAY, documentedConfig } from "./doctor-configs.ts";
import {
  binary,
  doctorOn,
  eachOnItsOwn,
  freePort,
  heldToTheEnd,
  type Proc,
  spread,
  startProcess,
  tempFolder,
  timeBody,
  why,
} from "./doctor-support.ts";

// Debian's nginx in front of the gateway: the guide's recommended location block, and the
// configurations measured to hold or cut the stream. One nginx, one loopback port per variant.
const VARIANTS = {
  recommended: "",
  // gzip for event streams, and nginx told to ignore the gateway's X-Accel-Buffering: no. gzip then
  // holds the stream to its end, for clients that accept gzip only.
  gzipBuffered: `proxy_http_version 1.1; proxy_set_header Connection "";
      proxy_ignore_headers X-Accel-Buffering; gzip on; gzip_types text/event-stream;`,
  // gzip alone: X-Accel-Buffering: no makes nginx flush every read, and gzip flushes with it.
  gzipFlushing: `proxy_http_version 1.1; proxy_set_header Connection ""; gzip on; gzip_types text/event-stream;`,
  // nginx's default HTTP/1.0 to the upstream with buffering forced on: the whole body is held.
  http10Buffered: "proxy_ignore_headers X-Accel-Buffering;",
  // Buffering forced on, with large buffers, but HTTP/1.1 to the gateway: nginx still streams SSE.
  bufferingHttp11: `proxy_http_version 1.1; proxy_set_header Connection "";
      proxy_ignore_headers X-Accel-Buffering; proxy_buffers 64 64k; proxy_buffer_size 64k;
      proxy_busy_buffers_size 128k;`,
  // A read timeout shorter than the probe's pause.
  shortTimeout: `proxy_http_version 1.1; proxy_set_header Connection ""; proxy_buffering off; proxy_read_timeout 2s;`,
  // The same timeout in front of a gateway whose keep-alives (every 500 ms) are shorter than it.
  keptAlive: `proxy_http_version 1.1; proxy_set_header Connection ""; proxy_buffering off; proxy_read_timeout 2s;`,
} as const;
type Variant = keyof typeof VARIANTS;

let gateway: LocalGateway;
let keepingAlive: LocalGateway;
let nginx: Proc;
let folder: ReturnType<typeof tempFolder>;
const urls = {} as Record<Variant, string>;

beforeAll(async () => {
  // The default gateway's keep-alives (15 s) are longer than the probe's pause: it shows a bare timeout.
  [gateway, keepingAlive] = await Promise.all([startGateway(), startGateway({ KEEPALIVE_MS: "500" })]);
  folder = tempFolder("nginx");
  chmodSync(folder.dir, 0o755);
  const temp = path.join(folder.dir, "temp");
  mkdirSync(temp, { mode: 0o777 });
  chmodSync(temp, 0o777);
  const servers: string[] = [];
  for (const name of Object.keys(VARIANTS) as Variant[]) {
    const upstream = (name === "keptAlive" ? keepingAlive : gateway).url.host;
    const port = await freePort();
    urls[name] = `http://127.0.0.1:${port}`;
    const location =
      name === "recommended"
        ? documentedConfig("nginx").replaceAll(DOC_GATEWAY, upstream)
        : `location / {\n      proxy_pass http://${upstream};\n      ${VARIANTS[name]}\n    }`;
    servers.push(`  server {\n    listen 127.0.0.1:${port};\n    ${location}\n  }`);
  }
  const conf = path.join(folder.dir, "nginx.conf");
  writeFileSync(
    conf,
    `daemon off;
worker_processes 1;
pid ${folder.dir}/nginx.pid;
error_log ${folder.dir}/error.log warn;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${temp}/body;
  proxy_temp_path ${temp}/proxy;
  fastcgi_temp_path ${temp}/fastcgi;
  uwsgi_temp_path ${temp}/uwsgi;
  scgi_temp_path ${temp}/scgi;
${servers.join("\n")}
}
`,
  );
  const ports = Object.values(urls).map((u) => Number(new URL(u).port));
  nginx = await startProcess(
    binary("nginx"),
    ["-p", folder.dir, "-c", conf, "-e", `${folder.dir}/error.log`],
    ports,
  );
});

afterAll(async () => {
  await nginx?.stop();
  await gateway?.dispose();
  await keepingAlive?.dispose();
  folder?.remove();
});

describe("the doctor behind Debian's nginx", () => {
  it("finds the recommended configuration streaming: every event on its own, uncompressed", async () => {
    expect(spread(await timeBody(urls.recommended, "gzip, deflate, br"))).toBe(true);
    const r = await doctorOn(urls.recommended);
    expect(r.ok).toBe(true);
    for (const probe of [r.compressed, r.identity]) {
      expect(probe.verdict.kind).toBe("streaming");
      expect(eachOnItsOwn(probe.verdict), why(probe.verdict)).toBe(true);
      expect(probe.record.headers.server).toMatch(/^nginx/);
    }
  });

  it("finds gzip holding the stream to its end for clients that accept gzip, and names the fix", async () => {
    // The configuration really does it: a gzip client gets nothing until the end, the other streams.
    expect(heldToTheEnd(await timeBody(urls.gzipBuffered, "gzip, deflate, br"))).toBe(true);
    expect(spread(await timeBody(urls.gzipBuffered, "identity"))).toBe(true);
    const r = await doctorOn(urls.gzipBuffered);
    expect(r.ok).toBe(false);
    expect(r.compressed.verdict.kind).toBe("buffered");
    expect(r.compressed.verdict.problems.map((p) => p.kind)).toEqual(["buffered", "compressed"]);
    expect(r.identity.verdict.kind).toBe("streaming");
    const fix = r.compressed.advice.find((a) => a.problem === "compressed");
    expect(fix?.layer).toContain("nginx (server: nginx/");
    expect(fix?.fix).toContain("gzip_types");
    expect(fix?.doc).toBe("docs/proxies.md#nginx");
  });

  it("flags gzip even where it flushes every event, having decoded each one on arrival", async () => {
    const timing = await timeBody(urls.gzipFlushing, "gzip, deflate, br");
    expect(timing.contentEncoding).toBe("gzip");
    expect(spread(timing)).toBe(true);
    const r = await doctorOn(urls.gzipFlushing);
    expect(r.compressed.verdict.kind).toBe("compressed");
    expect(eachOnItsOwn(r.compressed.verdict), why(r.compressed.verdict)).toBe(true);
    expect(r.identity.verdict.kind).toBe("streaming");
  });

  it("finds nginx's HTTP/1.0 upstream with buffering forced on fully buffered, for every client", async () => {
    expect(heldToTheEnd(await timeBody(urls.http10Buffered, "identity"))).toBe(true);
    const r = await doctorOn(urls.http10Buffered);
    for (const probe of [r.compressed, r.identity]) {
      expect(probe.verdict.kind).toBe("buffered");
      expect(probe.advice[0]?.fix).toContain("proxy_buffering off");
    }
  });

  it("cannot make nginx buffer SSE from an HTTP/1.1 upstream, even with buffering forced on", async () => {
    expect(spread(await timeBody(urls.bufferingHttp11, "identity"))).toBe(true);
    const r = await doctorOn(urls.bufferingHttp11);
    expect(r.ok).toBe(true);
    expect(eachOnItsOwn(r.identity.verdict), why(r.identity.verdict)).toBe(true);
  });

  it("finds a read timeout shorter than a silent pause cutting the stream, with the time", async () => {
    const r = await doctorOn(urls.shortTimeout, { events: 6, pauseMs: 4000 });
    for (const probe of [r.compressed, r.identity]) {
      expect(probe.verdict.kind).toBe("cut");
      expect(probe.verdict.received).toBe(3);
      const cut = probe.verdict.problems.find((p) => p.kind === "cut");
      expect(cut).toMatchObject({ kind: "cut", afterEvent: 3, duringPause: true });
      // proxy_read_timeout 2s, counted from nginx's last read of the upstream.
      expect(cut?.kind === "cut" && cut.idleMs).toBeGreaterThan(1500);
      expect(cut?.kind === "cut" && cut.idleMs).toBeLessThan(3000);
      expect(probe.advice[0]?.doc).toBe("docs/proxies.md#idle-timeouts");
    }
  });

  it("finds the same timeout not cutting the stream when the gateway's keep-alives are shorter", async () => {
    const r = await doctorOn(urls.keptAlive, { events: 6, pauseMs: 4000 });
    for (const probe of [r.compressed, r.identity]) {
      expect(probe.verdict.problems.find((p) => p.kind === "cut")).toBeUndefined();
      expect(probe.verdict.received).toBe(6);
      expect(probe.verdict.keepAlives).toBeGreaterThanOrEqual(3);
    }
  });
});
