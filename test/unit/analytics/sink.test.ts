import { describe, expect, it, vi } from "vitest";
import { buildDataPoint, type GatewayDataPoint, type LogLine } from "../../../src/analytics/data-point.ts";
import {
  analyticsEngineSink,
  logSink,
  recordingSink,
  SINK_FAILED_MSG,
  teeSink,
} from "../../../src/analytics/sink.ts";
import { StreamMetrics } from "../../../src/analytics/stream-metrics.ts";
import { STREAM_OUTCOME } from "../../../src/protocol.ts";

function samplePoint(): GatewayDataPoint {
  const m = new StreamMetrics();
  m.requestReceived(0);
  m.upstreamSent(1);
  m.contentEvent(301, 1);
  m.firstClientContent(302);
  m.end(500, STREAM_OUTCOME.complete);
  return buildDataPoint(
    {
      route: "openai/chat",
      provider: "demo",
      model: "demo-1",
      guardrail: "none",
      colo: "DFW",
      country: "US",
      principal: "anonymous",
      streamId: "q3Xv0bN8kP2aL7sT1mR9wA",
      upstreamRequestId: "req_abc123",
    },
    m.snapshot(),
  );
}

/** A stand-in for the binding that records what the runtime would receive. */
function fakeDataset(): AnalyticsEngineDataset & { calls: unknown[] } {
  const calls: unknown[] = [];
  return {
    calls,
    writeDataPoint(event) {
      calls.push(event);
    },
  };
}

describe("analyticsEngineSink", () => {
  it("hands the point to writeDataPoint unchanged", () => {
    const dataset = fakeDataset();
    const point = samplePoint();
    analyticsEngineSink(dataset).write(point);
    expect(dataset.calls).toEqual([point]);
  });

  it("does nothing when the binding is not configured", () => {
    expect(() => analyticsEngineSink(undefined).write(samplePoint())).not.toThrow();
  });

  it("reports a throwing binding instead of breaking the stream", () => {
    const onError = vi.fn();
    const dataset: AnalyticsEngineDataset = {
      writeDataPoint() {
        throw new TypeError("too many blobs");
      },
    };
    expect(() => analyticsEngineSink(dataset, onError).write(samplePoint())).not.toThrow();
    expect(onError).toHaveBeenCalledOnce();
    expect(onError.mock.calls[0]?.[0]).toBeInstanceOf(TypeError);
  });
});

/** Runs `body` with console[method] captured; returns what each call was given. */
function captured(method: "log" | "error", body: () => void): unknown[][] {
  const spy = vi.spyOn(console, method).mockImplementation(() => undefined);
  try {
    body();
    return spy.mock.calls;
  } finally {
    spy.mockRestore();
  }
}

describe("logSink", () => {
  it("prints each point as one line of JSON that parses back to the named fields", () => {
    const calls = captured("log", () => logSink().write(samplePoint()));
    expect(calls).toHaveLength(1);
    const args = calls[0] ?? [];
    // One string argument: an object would be printed over many lines by wrangler dev.
    expect(args).toHaveLength(1);
    const text = args[0];
    expect(typeof text).toBe("string");
    expect(String(text)).not.toMatch(/[\r\n]/);
    expect(JSON.parse(String(text))).toMatchObject({
      event: "stream_metrics",
      model: "demo-1",
      outcome: "complete",
      streamId: "q3Xv0bN8kP2aL7sT1mR9wA",
      upstreamRequestId: "req_abc123",
      gatewayTtftMs: 302,
    });
  });

  it("logs one named-field object per point", () => {
    const lines: LogLine[] = [];
    logSink((line) => lines.push(line)).write(samplePoint());
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      event: "stream_metrics",
      model: "demo-1",
      outcome: "complete",
      gatewayTtftMs: 302,
      upstreamTtftMs: 300,
    });
  });
});

describe("teeSink and recordingSink", () => {
  it("writes to every sink even when one throws", () => {
    const first = recordingSink();
    const second = recordingSink();
    const broken = {
      write() {
        throw new Error("down");
      },
    };
    const point = samplePoint();
    const calls = captured("error", () => teeSink(first, broken, second).write(point));
    expect(first.points).toEqual([point]);
    expect(second.points).toEqual([point]);
    expect(calls).toHaveLength(1);
  });

  it("reports a failed write as one JSON line without the point's content", () => {
    const dataset: AnalyticsEngineDataset = {
      writeDataPoint() {
        throw new TypeError("too many blobs");
      },
    };
    const calls = captured("error", () => analyticsEngineSink(dataset).write(samplePoint()));
    expect(calls).toHaveLength(1);
    const args = calls[0] ?? [];
    expect(args).toHaveLength(1);
    expect(String(args[0])).not.toMatch(/[\r\n]/);
    expect(JSON.parse(String(args[0]))).toEqual({ msg: SINK_FAILED_MSG, error: "too many blobs" });
    expect(String(args[0])).not.toContain("anonymous");
  });

  it("records points in the order written", () => {
    const sink = recordingSink();
    const a = samplePoint();
    const b = { ...samplePoint(), indexes: ["other"] as [string] };
    sink.write(a);
    sink.write(b);
    expect(sink.points.map((p) => p.indexes[0])).toEqual(["demo-1", "other"]);
  });
});
