/**
 * For each problem, the layer that most likely causes it and the fix, with the section of
 * docs/proxies.md that applies. Layers are guessed from the headers intermediaries add; the gateway
 * itself never compresses or buffers a stream, so whatever does is in front of it.
 */
import type { Advice, ProbeRecord, Problem, Verdict } from "./types.ts";

/** Where the configuration guide lives; its section anchors are stable (the doctor links them). */
export const DOCS = "docs/proxies.md";

/** A layer recognised on the path, and the header that gave it away. */
export interface Layer {
  readonly id: LayerId;
  readonly name: string;
  readonly evidence: string;
}

type LayerId =
  | "nginx"
  | "caddy"
  | "haproxy"
  | "envoy"
  | "cloudflare"
  | "cloudfront"
  | "api-gateway"
  | "alb"
  | "azure"
  | "node";

/** Header tests for known intermediaries, nearest the client first in the answer they produce. */
const SIGNATURES: readonly { id: LayerId; name: string; header: string; test: RegExp }[] = [
  { id: "nginx", name: "nginx", header: "server", test: /nginx|openresty/i },
  { id: "caddy", name: "Caddy", header: "server", test: /caddy/i },
  { id: "caddy", name: "Caddy", header: "via", test: /caddy/i },
  { id: "haproxy", name: "HAProxy", header: "server", test: /haproxy/i },
  { id: "envoy", name: "Envoy", header: "server", test: /envoy/i },
  { id: "envoy", name: "Envoy", header: "x-envoy-upstream-service-time", test: /./ },
  { id: "cloudfront", name: "Amazon CloudFront", header: "x-amz-cf-id", test: /./ },
  { id: "cloudfront", name: "Amazon CloudFront", header: "via", test: /cloudfront/i },
  { id: "api-gateway", name: "Amazon API Gateway", header: "x-amz-apigw-id", test: /./ },
  { id: "alb", name: "AWS load balancer", header: "server", test: /awselb/i },
  { id: "azure", name: "Azure (Front Door / API Management)", header: "x-azure-ref", test: /./ },
  { id: "node", name: "a Node app server (Express)", header: "x-powered-by", test: /express/i },
  { id: "cloudflare", name: "Cloudflare", header: "cf-ray", test: /./ },
];

/** The intermediaries the response headers name. */
export function detectLayers(headers: Readonly<Record<string, string>>): Layer[] {
  const found: Layer[] = [];
  for (const sig of SIGNATURES) {
    const value = headers[sig.header];
    if (value === undefined || !sig.test.test(value) || found.some((l) => l.id === sig.id)) continue;
    found.push({ id: sig.id, name: sig.name, evidence: `${sig.header}: ${value.slice(0, 60)}` });
  }
  return found;
}

/** Sections of docs/proxies.md, by layer. */
const SECTION: Readonly<Record<LayerId | "generic", string>> = {
  nginx: "#nginx",
  caddy: "#caddy",
  haproxy: "#haproxy",
  envoy: "#envoy",
  cloudflare: "#cloudflare",
  cloudfront: "#amazon-cloudfront",
  "api-gateway": "#amazon-api-gateway",
  alb: "#aws-application-load-balancer",
  azure: "#azure-api-management",
  node: "#node-app-servers",
  generic: "#what-every-layer-needs",
};

const FIX_COMPRESS: Readonly<Record<LayerId | "generic", string>> = {
  nginx:
    "take text/event-stream out of gzip_types (or gzip off in the location proxying the gateway); nginx's gzip ignores no-transform",
  caddy:
    "limit encode to other types (encode { match { header Content-Type text/html* } }); current Caddy also honours no-transform (caddyserver/caddy#5257)",
  haproxy:
    "take text/event-stream out of `compression type`, and do not delete the gateway's cache-control header",
  envoy: "keep text/event-stream out of the compressor filter's content_type list",
  cloudflare:
    "keep Origin Cache Control on (no-transform is then honoured) or exclude the path from compression rules",
  cloudfront: "turn off Compress objects automatically for the streaming path's cache behavior",
  "api-gateway":
    "do not enable content encoding on a STREAM integration; compress in the integration if at all",
  alb: "look at the layer behind the load balancer too: the headers name only the outermost ones",
  azure: "remove compression policies from the streaming API",
  node: "make the compression middleware skip text/event-stream or honour Cache-Control: no-transform",
  generic:
    "exclude text/event-stream from compression in the proxy or app server that compressed it (the gateway never does)",
};

const FIX_BUFFER: Readonly<Record<LayerId | "generic", string>> = {
  nginx:
    "proxy_buffering off and gzip off for the gateway's location; do not add proxy_ignore_headers X-Accel-Buffering",
  caddy: "remove buffer_responses / response_buffers from reverse_proxy (flush_interval -1 does no harm)",
  haproxy:
    "add `option http-no-delay`, and remove http-response wait-for-body (and Lua or SPOE filters that read the body)",
  envoy: "remove the buffer filter from the route and keep the route timeout off (0s) for streaming",
  cloudflare: "turn Response Buffering off for the zone (Enterprise setting)",
  cloudfront:
    "check the cache behavior and any Lambda@Edge or CloudFront Function on the path, then the origin",
  "api-gateway": "set the integration's responseTransferMode to STREAM",
  alb: "look at the layer behind the load balancer too: the headers name only the outermost ones",
  azure: 'set buffer-response="false" on forward-request and avoid policies that read the body',
  node: "flush after every event (res.flush() with compression) and do not collect the upstream body",
  generic: "turn response buffering off for text/event-stream in the proxy in front of the gateway",
};

// Bursts without any buffering setting are usually a proxy batching small writes into full packets.
const FIX_COALESCE_GENERIC =
  "a proxy is batching small writes: on HAProxy add `option http-no-delay` (its default corks ~200 ms); elsewhere turn response buffering off for text/event-stream";

/** Known default idle timeouts, to name the layer a cut most likely came from. */
const IDLE_DEFAULTS: readonly { seconds: number; who: string; id: LayerId }[] = [
  {
    seconds: 30,
    who: "CloudFront's origin response timeout (30 s) or an edge-optimized API Gateway (30 s)",
    id: "cloudfront",
  },
  { seconds: 60, who: "nginx proxy_read_timeout (60 s) or an AWS ALB idle timeout (60 s)", id: "nginx" },
  { seconds: 100, who: "Cloudflare's proxy read timeout (100 s, error 524)", id: "cloudflare" },
  { seconds: 240, who: "Azure's load balancer in front of API Management (4 min)", id: "azure" },
  {
    seconds: 300,
    who: "Envoy's stream_idle_timeout (5 min) or a regional API Gateway stream (5 min)",
    id: "envoy",
  },
];

function pickLayer(layers: readonly Layer[]): Layer | undefined {
  // The layer nearest the client is the likeliest to compress or buffer what the client sees; the
  // gateway's own Cloudflare edge comes last (a deployed worker always shows cf-ray).
  return layers.find((l) => l.id !== "cloudflare") ?? layers[0];
}

function docLink(id: LayerId | "generic"): string {
  return `${DOCS}${SECTION[id]}`;
}

function layerText(layer: Layer | undefined): string {
  return layer === undefined
    ? "a proxy, load balancer or app server between you and the gateway (none named itself in the headers)"
    : `${layer.name} (${layer.evidence})`;
}

/** Advice for every problem of one probe. */
export function advise(record: ProbeRecord, verdict: Verdict): Advice[] {
  const layers = detectLayers(record.headers);
  const layer = pickLayer(layers);
  const id: LayerId | "generic" = layer?.id ?? "generic";
  const probe = record.spec.name;
  return verdict.problems.map((p): Advice => adviceFor(p, probe, layer, id));
}

function adviceFor(
  p: Problem,
  probe: Advice["probe"],
  layer: Layer | undefined,
  id: LayerId | "generic",
): Advice {
  switch (p.kind) {
    case "compressed":
      return {
        problem: p.kind,
        probe,
        summary: `the stream arrived with content-encoding: ${p.encoding}; a compressor holds events until its buffer fills`,
        layer: layerText(layer),
        fix: FIX_COMPRESS[id],
        doc: layer === undefined ? `${DOCS}#compression` : docLink(id),
      };
    case "buffered":
      return {
        problem: p.kind,
        probe,
        summary: `every event arrived at once at the end (the first was held ${Math.round(p.heldMs)} ms)${
          p.contentLength
            ? "; the response had a content-length, so a layer had the whole body before sending it"
            : ""
        }`,
        layer: layerText(layer),
        fix: FIX_BUFFER[id],
        doc: layer === undefined ? `${DOCS}#buffering` : docLink(id),
      };
    case "coalescing":
      return {
        problem: p.kind,
        probe,
        summary: `events arrived in ${p.bursts} bursts of up to ${p.largestBurst} (typically ${p.typicalBurst}), held up to ${Math.round(p.heldMs)} ms`,
        layer: layerText(layer),
        fix: layer === undefined ? FIX_COALESCE_GENERIC : FIX_BUFFER[id],
        doc: layer === undefined ? `${DOCS}#buffering` : docLink(id),
      };
    case "cut": {
      const seconds = p.idleMs / 1000;
      const known = IDLE_DEFAULTS.find((d) => Math.abs(seconds - d.seconds) <= d.seconds * 0.1);
      const where = p.duringPause ? "during the silent pause" : `after event ${p.afterEvent}`;
      return {
        problem: p.kind,
        probe,
        summary: `the stream was cut ${where}, ${(p.atMs / 1000).toFixed(1)} s in, after ${seconds.toFixed(1)} s without data: an idle timeout`,
        layer: known === undefined ? layerText(layer) : known.who,
        fix: "raise that layer's idle/read timeout above the longest silence of a reasoning model (minutes), or set the gateway's KEEPALIVE_MS (default 15 s) below the shortest timeout",
        doc: `${DOCS}#idle-timeouts`,
      };
    }
    case "error":
      return {
        problem: p.kind,
        probe,
        summary: `the stream carried an error instead of probe events: ${p.message}`,
        layer: "the gateway or its configuration",
        fix: "check that the gateway has the demo provider (demo/probe) and that the key may use it",
        doc: `${DOCS}#what-every-layer-needs`,
      };
  }
}
