import { describe, expect, it } from "vitest";
import { advise, detectLayers } from "../../../scripts/doctor/advice.ts";
import { bursts, classify, timeline } from "../../../scripts/doctor/classify.ts";
import type { ProbeRecord, ProbeSpec } from "../../../scripts/doctor/types.ts";

const SPEC: ProbeSpec = {
  name: "compressed",
  acceptEncoding: "gzip, deflate, br",
  events: 8,
  intervalMs: 100,
  payloadBytes: 0,
  pauseAtEvent: 0,
  pauseMs: 0,
};

/** The gateway's clock is far from this machine's: the classifier must only use differences. */
const GATEWAY_EPOCH = 1_764_612_345_678;

interface Shape {
  /** Arrival of each event, ms after the request started. */
  readonly arrivals: readonly number[];
  /** Emission of each event relative to the first (default: the spec's cadence). */
  readonly emitted?: readonly number[];
  readonly headers?: Record<string, string>;
  readonly done?: boolean;
  readonly end?: ProbeRecord["end"];
  readonly spec?: Partial<ProbeSpec>;
  readonly keepAlives?: readonly number[];
}

function record(shape: Shape): ProbeRecord {
  const spec = { ...SPEC, ...shape.spec, events: shape.arrivals.length };
  const emitted = shape.emitted ?? shape.arrivals.map((_, i) => i * spec.intervalMs);
  const last = Math.max(...shape.arrivals);
  const done = shape.done ?? true;
  return {
    spec,
    status: 200,
    httpVersion: "1.1",
    headers: { "content-type": "text/event-stream; charset=utf-8", ...shape.headers },
    firstByteMs: 40,
    headersMs: 41,
    rawChunks: shape.arrivals.length,
    rawBytes: 1000,
    lastByteMs: last,
    events: shape.arrivals.map((atMs, i) => ({
      seq: i + 1,
      sentAt: GATEWAY_EPOCH + (emitted[i] ?? 0),
      atMs,
    })),
    keepAlives: shape.keepAlives ?? [],
    doneMs: done ? last : undefined,
    inBandError: undefined,
    decodeError: undefined,
    end: shape.end ?? { kind: "complete", atMs: last + 1 },
  };
}

/** Arrivals of a path that streams: cadence plus a constant network delay and a little jitter. */
const STREAMING = [50, 152, 249, 351, 450, 553, 649, 752];

describe("the doctor's classifier", () => {
  it("calls a path that delivers every event on its own streaming, whatever the clock offset", () => {
    const v = classify(record({ arrivals: STREAMING }));
    expect(v.kind).toBe("streaming");
    expect(v.problems).toEqual([]);
    expect(v.bursts).toEqual([1, 1, 1, 1, 1, 1, 1, 1]);
    expect(v.heldMs).toBeLessThanOrEqual(5);
    expect(v.timeline[0]).toEqual({ seq: 1, emittedMs: 0, arrivedMs: 0, heldMs: expect.any(Number) });
  });

  it("tolerates one event delayed by a hiccup (a single merged gap is noise, not a buffer)", () => {
    const v = classify(record({ arrivals: [50, 150, 250, 440, 450, 550, 650, 750] }));
    expect(v.kind).toBe("streaming");
    expect(v.bursts).toEqual([1, 1, 1, 2, 1, 1, 1]);
  });

  it("calls a path that releases everything at the end fully buffered, with how long the first waited", () => {
    const v = classify(record({ arrivals: [760, 760, 760, 760, 760, 760, 760, 760] }));
    expect(v.kind).toBe("buffered");
    expect(v.bursts).toEqual([8]);
    expect(v.problems).toContainEqual({ kind: "buffered", heldMs: 700, contentLength: false });
  });

  it("notes a content-length on a buffered stream: a layer had the whole body", () => {
    const v = classify(record({ arrivals: [800, 800, 800, 800], headers: { "content-length": "2000" } }));
    expect(v.problems).toContainEqual(expect.objectContaining({ kind: "buffered", contentLength: true }));
  });

  it("calls bursts coalescing, with the burst size (HAProxy's MSG_MORE corks ~200 ms)", () => {
    const v = classify(record({ arrivals: [250, 250, 250, 550, 550, 551, 750, 751] }));
    expect(v.kind).toBe("coalescing");
    expect(v.bursts).toEqual([3, 3, 2]);
    expect(v.problems).toContainEqual({
      kind: "coalescing",
      largestBurst: 3,
      typicalBurst: 3,
      bursts: 3,
      heldMs: 200,
    });
  });

  it("calls a stream with a content-encoding compressed even when it arrives event by event", () => {
    const v = classify(record({ arrivals: STREAMING, headers: { "content-encoding": "gzip" } }));
    expect(v.kind).toBe("compressed");
    expect(v.problems).toEqual([{ kind: "compressed", encoding: "gzip" }]);
  });

  it("names buffering before compression when a compressor held the stream", () => {
    const v = classify(
      record({ arrivals: [760, 760, 760, 760, 760, 761, 761, 761], headers: { "content-encoding": "gzip" } }),
    );
    expect(v.kind).toBe("buffered");
    expect(v.problems.map((p) => p.kind)).toEqual(["buffered", "compressed"]);
  });

  it("calls a stream that ends without [DONE] during the pause cut, with the idle time", () => {
    const spec = { events: 6, intervalMs: 100, pauseAtEvent: 4, pauseMs: 4000 };
    const r = record({
      arrivals: [130, 230, 330],
      spec,
      done: false,
      end: { kind: "reset", atMs: 2335 },
    });
    const v = classify({ ...r, spec: { ...r.spec, events: 6 } });
    expect(v.kind).toBe("cut");
    expect(v.received).toBe(3);
    expect(v.expected).toBe(6);
    expect(v.problems).toContainEqual({
      kind: "cut",
      atMs: 2335,
      idleMs: 2005,
      afterEvent: 3,
      duringPause: true,
    });
  });

  it("does not call events released together long before a cut fully buffered", () => {
    const r = record({
      arrivals: [270, 270, 271],
      spec: { pauseAtEvent: 4, pauseMs: 4000 },
      done: false,
      end: { kind: "reset", atMs: 2261 },
    });
    const v = classify(r);
    expect(v.problems.map((p) => p.kind)).toEqual(["cut", "coalescing"]);
  });

  it("counts keep-alive comments without calling them a problem", () => {
    const v = classify(record({ arrivals: STREAMING, keepAlives: [300, 600] }));
    expect(v.kind).toBe("streaming");
    expect(v.keepAlives).toBe(2);
  });

  it("reports an in-band error event first", () => {
    const v = classify({ ...record({ arrivals: STREAMING }), inBandError: "rate limited" });
    expect(v.kind).toBe("error");
  });

  it("measures holds against the least-delayed event, so a held first event shows", () => {
    const points = timeline(record({ arrivals: [500, 500, 500, 500] }));
    expect(points.map((p) => p.heldMs)).toEqual([300, 200, 100, 0]);
    expect(bursts(points)).toEqual([4]);
  });
});

describe("the doctor's advice", () => {
  it("recognises intermediaries from their headers, the gateway's own Cloudflare edge last", () => {
    const layers = detectLayers({ server: "nginx/1.22.1", "cf-ray": "8abc-AMS", via: "1.1 varnish" });
    expect(layers.map((l) => l.id)).toEqual(["nginx", "cloudflare"]);
    expect(layers[0]?.evidence).toBe("server: nginx/1.22.1");
  });

  it("blames nginx's gzip for a compressed, buffered stream and links its section", () => {
    const r = record({
      arrivals: [760, 760, 760, 760, 760, 761, 761, 761],
      headers: { "content-encoding": "gzip", server: "nginx/1.22.1" },
    });
    const advice = advise(r, classify(r));
    expect(advice.map((a) => a.problem)).toEqual(["buffered", "compressed"]);
    for (const a of advice) {
      expect(a.layer).toContain("nginx");
      expect(a.doc).toBe("docs/proxies.md#nginx");
    }
    expect(advice[1]?.fix).toContain("gzip_types");
  });

  it("names the layer whose default idle timeout matches the silence before a cut", () => {
    const r = record({
      arrivals: [100, 200, 300],
      spec: { pauseAtEvent: 4, pauseMs: 75_000 },
      done: false,
      end: { kind: "reset", atMs: 60_350 },
    });
    const [cut] = advise(r, classify(r));
    expect(cut?.problem).toBe("cut");
    expect(cut?.layer).toContain("proxy_read_timeout (60 s)");
    expect(cut?.layer).toContain("ALB");
    expect(cut?.doc).toBe("docs/proxies.md#idle-timeouts");
  });

  it("says no layer named itself when the headers name none", () => {
    const r = record({ arrivals: [250, 250, 250, 550, 550, 551, 750, 751] });
    const [a] = advise(r, classify(r));
    expect(a?.layer).toContain("none named itself");
    expect(a?.doc).toBe("docs/proxies.md#buffering");
  });
});
