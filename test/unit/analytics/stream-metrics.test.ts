import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { GapHistogram } from "../../../src/analytics/gap-histogram.ts";
import { StreamMetrics } from "../../../src/analytics/stream-metrics.ts";
import { STREAM_OUTCOME, type StreamOutcome } from "../../../src/protocol.ts";

/** A stream with request at t=1000, upstream sent at 1005, headers at 1100, first content at 1305. */
function startedStream(): StreamMetrics {
  const m = new StreamMetrics();
  m.requestReceived(1000);
  m.upstreamSent(1005);
  m.upstreamHeaders(1100);
  return m;
}

describe("StreamMetrics: exactly-once end", () => {
  const outcomes = Object.values(STREAM_OUTCOME) as StreamOutcome[];

  it.each(outcomes)("accepts the first end (%s) and refuses every later one", (outcome) => {
    const m = startedStream();
    expect(m.ended).toBe(false);
    expect(m.end(2000, outcome)).toBe(true);
    expect(m.end(2500, STREAM_OUTCOME.complete)).toBe(false);
    expect(m.end(3000, STREAM_OUTCOME.lost)).toBe(false);
    const snap = m.snapshot();
    expect(snap.outcome).toBe(outcome);
    expect(snap.durationMs).toBe(1000);
  });

  it("freezes every mark after the end", () => {
    const m = startedStream();
    m.contentEvent(1300, 2);
    m.end(1400, STREAM_OUTCOME.cancelled);
    m.contentEvent(1500, 50);
    m.firstClientContent(1500);
    m.bytesSent(99);
    m.resume();
    m.holdback(10);
    m.usage(500);
    const snap = m.snapshot();
    expect(snap.contentEvents).toBe(1);
    expect(snap.outputTokens).toBe(2);
    expect(snap.tokensExact).toBe(false);
    expect(snap.gatewayTtftMs).toBeUndefined();
    expect(snap.bytesSent).toBe(0);
    expect(snap.resumes).toBe(0);
    expect(snap.holdbackMs).toBe(0);
  });
});

describe("StreamMetrics: time to first token", () => {
  it("measures gateway TTFT, upstream TTFT, overhead and upstream connect from the marks", () => {
    const m = startedStream();
    m.contentEvent(1305, 1);
    m.holdback(40);
    m.firstClientContent(1345);
    const snap = m.snapshot();
    expect(snap.preUpstreamMs).toBe(5);
    expect(snap.upstreamConnectMs).toBe(95);
    expect(snap.upstreamTtftMs).toBe(300);
    expect(snap.gatewayTtftMs).toBe(345);
    expect(snap.overheadMs).toBe(45);
    expect(snap.holdbackMs).toBe(40);
  });

  it("keeps the first mark of first content, first client byte and request arrival", () => {
    const m = startedStream();
    m.requestReceived(1200);
    m.firstUpstreamContent(1300);
    m.firstUpstreamContent(1400);
    m.contentEvent(1450, 1);
    m.firstClientContent(1310);
    m.firstClientContent(1500);
    const snap = m.snapshot();
    expect(snap.upstreamTtftMs).toBe(295);
    expect(snap.gatewayTtftMs).toBe(310);
  });

  it("times upstream TTFT from the last retry, so lost attempts count as gateway overhead", () => {
    const m = new StreamMetrics();
    m.requestReceived(0);
    m.upstreamSent(10);
    m.upstreamHeaders(60); // first attempt answered 503
    m.upstreamSent(100);
    m.upstreamHeaders(150);
    m.contentEvent(400, 1);
    m.upstreamSent(500); // ignored: the stream already has content
    m.firstClientContent(400);
    const snap = m.snapshot();
    expect(snap.upstreamConnectMs).toBe(50);
    expect(snap.upstreamTtftMs).toBe(300);
    expect(snap.gatewayTtftMs).toBe(400);
    expect(snap.overheadMs).toBe(100);
  });

  it("leaves every first-token measurement undefined when no content ever arrived", () => {
    const m = startedStream();
    m.end(1700, STREAM_OUTCOME.interrupted);
    const snap = m.snapshot();
    expect(snap.gatewayTtftMs).toBeUndefined();
    expect(snap.upstreamTtftMs).toBeUndefined();
    expect(snap.overheadMs).toBeUndefined();
    expect(snap.tokensPerSecond).toBeUndefined();
    expect(snap.gapP50Ms).toBeUndefined();
    expect(snap.gapMaxMs).toBeUndefined();
    expect(snap.outputTokens).toBe(0);
    expect(snap.durationMs).toBe(700);
    expect(snap.upstreamConnectMs).toBe(95);
  });

  it("has a duration up to `now` before the end, and none without `now`", () => {
    const m = startedStream();
    expect(m.snapshot().durationMs).toBeUndefined();
    expect(m.snapshot(1250).durationMs).toBe(250);
    m.end(1300, STREAM_OUTCOME.complete);
    expect(m.snapshot(9999).durationMs).toBe(300);
  });

  it("clamps spans at 0 when a wall clock steps backwards", () => {
    const m = new StreamMetrics();
    m.requestReceived(1000);
    m.firstClientContent(990);
    expect(m.snapshot().gatewayTtftMs).toBe(0);
  });
});

describe("StreamMetrics: inter-token gaps", () => {
  it("reports the nearest-rank median and the exact maximum of the gaps", () => {
    const m = startedStream();
    // Gaps: 10, 30, 20, 250, 40 -> sorted 10 20 30 40 250, median 30, max 250.
    for (const t of [1300, 1310, 1340, 1360, 1610, 1650]) m.contentEvent(t, 1);
    const snap = m.snapshot();
    expect(snap.gapP50Ms).toBe(30);
    expect(snap.gapMaxMs).toBe(250);
    expect(snap.contentEvents).toBe(6);
  });

  it("takes the lower median of an even number of gaps", () => {
    const m = startedStream();
    for (const t of [0, 10, 30, 60, 100]) m.contentEvent(1300 + t, 1); // gaps 10 20 30 40
    expect(m.snapshot().gapP50Ms).toBe(20);
  });

  it("counts events that arrived in one read (same timestamp) as real 0 ms gaps", () => {
    const m = startedStream();
    for (const t of [1300, 1300, 1300, 1335]) m.contentEvent(t, 1);
    const snap = m.snapshot();
    expect(snap.gapP50Ms).toBe(0);
    expect(snap.gapMaxMs).toBe(35);
  });

  it("has no gap statistics for a single content event", () => {
    const m = startedStream();
    m.contentEvent(1300, 5);
    expect(m.snapshot().gapP50Ms).toBeUndefined();
    expect(m.snapshot().gapMaxMs).toBeUndefined();
  });

  it("keeps the median of a very long stream accurate in constant memory", () => {
    const m = startedStream();
    let t = 1300;
    // 100 000 events: 60 % at 35 ms, 40 % at 900 ms (in the log range), plus one 5 s stall.
    for (let i = 0; i < 100_000; i += 1) {
      m.contentEvent(t, 1);
      t += i % 5 < 3 ? 35 : 900;
    }
    m.contentEvent(t + 5000, 1);
    const snap = m.snapshot();
    expect(snap.gapP50Ms).toBe(35);
    expect(snap.gapMaxMs).toBe(5900);
  });
});

describe("GapHistogram", () => {
  it("is exact below 64 ms and within 1/64 above, up to hours", () => {
    for (const v of [0, 1, 17, 63]) {
      const h = new GapHistogram();
      h.record(v);
      expect(h.quantile(0.5)).toBe(v);
    }
    for (const v of [64, 100, 1000, 12_345, 3_600_000]) {
      const h = new GapHistogram();
      h.record(v);
      const got = h.quantile(0.5) ?? Number.NaN;
      expect(Math.abs(got - v) / v).toBeLessThanOrEqual(1 / 64);
    }
  });

  it("answers the 0.9 quantile by nearest rank", () => {
    const h = new GapHistogram();
    for (let v = 1; v <= 10; v += 1) h.record(v);
    expect(h.quantile(0.9)).toBe(9);
    expect(h.quantile(1)).toBe(10);
    expect(h.count).toBe(10);
  });

  it("treats negative and non-finite gaps as 0", () => {
    const h = new GapHistogram();
    h.record(-5);
    h.record(Number.NaN);
    expect(h.quantile(1)).toBe(0);
  });
});

describe("StreamMetrics: tokens", () => {
  it("computes tokens per second after the first token from event times", () => {
    const m = startedStream();
    // 11 events of 2 tokens, 20 ms apart: 20 tokens after the first event over 200 ms = 100/s.
    for (let i = 0; i <= 10; i += 1) m.contentEvent(1300 + i * 20, 2);
    const snap = m.snapshot();
    expect(snap.outputTokens).toBe(22);
    expect(snap.tokensExact).toBe(false);
    expect(snap.tokensPerSecond).toBeCloseTo(100, 9);
  });

  it("prefers the provider's exact usage for the count and the rate", () => {
    const m = startedStream();
    for (let i = 0; i <= 10; i += 1) m.contentEvent(1300 + i * 20, 2);
    m.usage(30);
    m.usage(42); // a later, final usage report wins
    const snap = m.snapshot();
    expect(snap.outputTokens).toBe(42);
    expect(snap.tokensExact).toBe(true);
    expect(snap.tokensPerSecond).toBeCloseTo(((42 - 2) / 200) * 1000, 9);
  });

  it("does not take a count below the number of text events as exact (a placeholder, e.g. Anthropic's message_start)", () => {
    const m = startedStream();
    m.usage(1); // message_start's output_tokens, the only report of a stream cut before message_delta
    for (let i = 0; i < 5; i += 1) m.contentEvent(1300 + i * 20, 3);
    const cut = m.snapshot();
    expect(cut.tokensExact).toBe(false);
    expect(cut.outputTokens).toBe(15);
    m.usage(17); // message_delta's cumulative count: at least one token per event, so it is the total
    const complete = m.snapshot();
    expect(complete.tokensExact).toBe(true);
    expect(complete.outputTokens).toBe(17);
  });

  it("takes a count equal to the number of text events as exact, and ignores events without text", () => {
    const m = startedStream();
    m.contentEvent(1300, 0); // a whole-text copy or an empty delta: no token of its own
    for (let i = 0; i < 3; i += 1) m.contentEvent(1310 + i * 10, 1);
    m.usage(3);
    expect(m.snapshot()).toMatchObject({ tokensExact: true, outputTokens: 3, contentEvents: 4 });
  });

  it("has no rate when every event arrived at once or only one event came", () => {
    const burst = startedStream();
    burst.contentEvent(1300, 3);
    burst.contentEvent(1300, 3);
    expect(burst.snapshot().tokensPerSecond).toBeUndefined();
    const single = startedStream();
    single.contentEvent(1300, 3);
    expect(single.snapshot().tokensPerSecond).toBeUndefined();
  });

  it("ignores negative or non-finite counts and accumulates bytes, holdback and resumes", () => {
    const m = startedStream();
    m.contentEvent(1300, -4);
    m.contentEvent(1310, Number.NaN);
    m.usage(-1);
    m.bytesSent(100);
    m.bytesSent(-50);
    m.bytesSent(23);
    m.holdback(5);
    m.holdback(7);
    m.resume();
    m.resume();
    const snap = m.snapshot();
    expect(snap.outputTokens).toBe(0);
    expect(snap.tokensExact).toBe(false);
    expect(snap.bytesSent).toBe(123);
    expect(snap.holdbackMs).toBe(12);
    expect(snap.resumes).toBe(2);
  });
});

describe("StreamMetrics with a real clock around real I/O", () => {
  it("measures an upstream TTFT of about 300 ms when the first token comes 300 ms after the headers", async () => {
    const server = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.flushHeaders();
      setTimeout(() => {
        res.end('data: {"delta":"Hi"}\n\n');
      }, 300);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const m = new StreamMetrics();
      m.requestReceived(Date.now());
      m.upstreamSent(Date.now());
      const response = await fetch(`http://127.0.0.1:${port}/`);
      m.upstreamHeaders(Date.now());
      const reader = response.body?.getReader();
      if (reader === undefined) throw new Error("no body");
      const first = await reader.read();
      m.contentEvent(Date.now(), 1);
      m.firstClientContent(Date.now());
      expect(first.done).toBe(false);
      while (!(await reader.read()).done) {
        // drain
      }
      m.end(Date.now(), STREAM_OUTCOME.complete);
      const snap = m.snapshot();
      expect(snap.upstreamTtftMs).toBeGreaterThanOrEqual(295);
      expect(snap.upstreamTtftMs).toBeLessThan(450);
      expect(snap.upstreamConnectMs).toBeLessThan(150);
      expect(snap.gatewayTtftMs).toBeGreaterThanOrEqual(snap.upstreamTtftMs ?? Number.POSITIVE_INFINITY);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
