import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  BLOB,
  buildDataPoint,
  type DataPointMeta,
  DOUBLE,
  locationFromCf,
  MISSING,
  toLogLine,
  truncateUtf8,
} from "../../../src/analytics/data-point.ts";
import type { MetricsSnapshot } from "../../../src/analytics/stream-metrics.ts";

const meta: DataPointMeta = {
  route: "native/openai-chat",
  provider: "openai",
  model: "openai/gpt-4o-mini",
  guardrail: "redact:openai_key",
  colo: "FRA",
  country: "DE",
  principal: "key:ci-batch",
  streamId: "Zdzmenb0rZZ8isK-xDKLiw",
  upstreamRequestId: "req_011CVx2abc",
  target: "anthropic/claude-fallback",
  attempts: 4,
  hedged: true,
  malformedEvents: 2,
  continuations: 1,
  continuedAfter: "upstream_stalled",
  classifiers: { calls: 7, latencyP50Ms: 21, latencyMaxMs: 230, verdict: "flag:lakera" },
};

/** Every double distinct, so a value at the wrong position cannot pass. */
const full: MetricsSnapshot = {
  outcome: "complete",
  gatewayTtftMs: 345,
  upstreamTtftMs: 300,
  overheadMs: 45,
  preUpstreamMs: 2,
  upstreamConnectMs: 95,
  holdbackMs: 40,
  durationMs: 2500,
  outputTokens: 120,
  tokensExact: true,
  tokensPerSecond: 66.5,
  gapP50Ms: 18,
  gapMaxMs: 410,
  contentEvents: 60,
  resumes: 2,
  bytesSent: 9876,
};

const noFirstToken: MetricsSnapshot = {
  ...full,
  outcome: "interrupted",
  gatewayTtftMs: undefined,
  upstreamTtftMs: undefined,
  overheadMs: undefined,
  tokensPerSecond: undefined,
  gapP50Ms: undefined,
  gapMaxMs: undefined,
  outputTokens: 0,
  tokensExact: false,
  contentEvents: 0,
  holdbackMs: 0,
  resumes: 0,
  bytesSent: 0,
};

describe("buildDataPoint: field positions", () => {
  it("pins the documented positions (a change here breaks every stored row)", () => {
    expect(BLOB).toEqual({
      route: 1,
      provider: 2,
      model: 3,
      outcome: 4,
      guardrail: 5,
      colo: 6,
      country: 7,
      principal: 8,
      tokensSource: 9,
      streamId: 10,
      upstreamRequestId: 11,
      target: 12,
      continuedAfter: 13,
      classifierVerdict: 14,
    });
    expect(DOUBLE).toEqual({
      gatewayTtftMs: 1,
      upstreamTtftMs: 2,
      overheadMs: 3,
      holdbackMs: 4,
      durationMs: 5,
      outputTokens: 6,
      tokensPerSecond: 7,
      gapP50Ms: 8,
      gapMaxMs: 9,
      resumes: 10,
      bytesSent: 11,
      attempts: 12,
      hedged: 13,
      malformedEvents: 14,
      continuations: 15,
      classifierCalls: 16,
      classifierLatencyP50Ms: 17,
      classifierLatencyMaxMs: 18,
    });
  });

  it("puts every value at its position, with the model as the one index", () => {
    const point = buildDataPoint(meta, full);
    expect(point.indexes).toEqual(["openai/gpt-4o-mini"]);
    expect(point.blobs).toEqual([
      "native/openai-chat",
      "openai",
      "openai/gpt-4o-mini",
      "complete",
      "redact:openai_key",
      "FRA",
      "DE",
      "key:ci-batch",
      "exact",
      "Zdzmenb0rZZ8isK-xDKLiw",
      "req_011CVx2abc",
      "anthropic/claude-fallback",
      "upstream_stalled",
      "flag:lakera",
    ]);
    expect(point.doubles).toEqual([
      345, 300, 45, 40, 2500, 120, 66.5, 18, 410, 2, 9876, 4, 1, 2, 1, 7, 21, 230,
    ]);
  });

  it("stays within Analytics Engine's limits: 20 blobs, 20 doubles, one index", () => {
    const point = buildDataPoint(meta, full);
    expect(point.blobs.length).toBeLessThanOrEqual(20);
    expect(point.doubles.length).toBeLessThanOrEqual(20);
    expect(point.indexes).toHaveLength(1);
  });

  it("documents every position in docs/analytics.md", () => {
    const doc = readFileSync(new URL("../../../docs/analytics.md", import.meta.url), "utf8");
    for (const [name, position] of Object.entries(BLOB)) {
      expect(doc).toMatch(new RegExp(`\\|\\s*blob${position}\\s*\\|\\s*${name}\\s*\\|`));
    }
    for (const [name, position] of Object.entries(DOUBLE)) {
      expect(doc).toMatch(new RegExp(`\\|\\s*double${position}\\s*\\|\\s*${name}\\s*\\|`));
    }
  });
});

describe("buildDataPoint: values", () => {
  it("writes -1 for first-token measurements of a stream that never produced one, 0 for counters", () => {
    const point = buildDataPoint(meta, noFirstToken);
    const at = (field: keyof typeof DOUBLE): number | undefined => point.doubles[DOUBLE[field] - 1];
    expect(at("gatewayTtftMs")).toBe(MISSING);
    expect(at("upstreamTtftMs")).toBe(MISSING);
    expect(at("overheadMs")).toBe(MISSING);
    expect(at("tokensPerSecond")).toBe(MISSING);
    expect(at("gapP50Ms")).toBe(MISSING);
    expect(at("gapMaxMs")).toBe(MISSING);
    expect(at("outputTokens")).toBe(0);
    expect(at("holdbackMs")).toBe(0);
    expect(at("resumes")).toBe(0);
    expect(at("bytesSent")).toBe(0);
    expect(at("durationMs")).toBe(2500);
    const none = buildDataPoint({ ...meta, classifiers: undefined }, noFirstToken);
    expect(none.blobs[BLOB.classifierVerdict - 1]).toBe("none");
    expect(none.doubles[DOUBLE.classifierCalls - 1]).toBe(0);
    expect(none.doubles[DOUBLE.classifierLatencyP50Ms - 1]).toBe(MISSING);
    expect(point.blobs[BLOB.outcome - 1]).toBe("interrupted");
    expect(point.blobs[BLOB.tokensSource - 1]).toBe("estimated");
  });

  it("writes no NaN or Infinity (Analytics Engine doubles are plain numbers)", () => {
    const point = buildDataPoint(meta, {
      ...full,
      tokensPerSecond: Number.POSITIVE_INFINITY,
      gapP50Ms: Number.NaN,
    });
    expect(point.doubles[DOUBLE.tokensPerSecond - 1]).toBe(MISSING);
    expect(point.doubles[DOUBLE.gapP50Ms - 1]).toBe(MISSING);
    expect(point.doubles.every(Number.isFinite)).toBe(true);
  });

  it("names the stream by its id and the upstream's request id, empty strings when it has none", () => {
    const { streamId: _s, upstreamRequestId: _u, ...direct } = meta;
    const point = buildDataPoint(direct, full);
    expect(point.blobs[BLOB.streamId - 1]).toBe("");
    expect(point.blobs[BLOB.upstreamRequestId - 1]).toBe("");
    // Every position is filled, so the ids never shift or leave a hole for a later field.
    expect(point.blobs).toHaveLength(Object.keys(BLOB).length);
  });

  it("does not store an upstream request id that is not a plain visible-ASCII id", () => {
    for (const upstreamRequestId of ["", "req 1", "req\u00e9", "a\nb", "x".repeat(257)]) {
      const point = buildDataPoint({ ...meta, upstreamRequestId }, full);
      expect(point.blobs[BLOB.upstreamRequestId - 1]).toBe("");
    }
    const uuid = "6e1f0c8a-2b3d-4c5e-8f9a-0b1c2d3e4f5a";
    expect(buildDataPoint({ ...meta, upstreamRequestId: uuid }, full).blobs[BLOB.upstreamRequestId - 1]).toBe(
      uuid,
    );
  });

  it("marks a point built before the stream ended as unended", () => {
    const point = buildDataPoint(meta, { ...full, outcome: undefined });
    expect(point.blobs[BLOB.outcome - 1]).toBe("unended");
  });

  it("never stores a principal that is not one of the ids auth gives", () => {
    // A bare hex digest, too: no principal id is one, and a hex API key would look exactly like it.
    for (const principal of [
      "sk-proj-abcdefghijklmnop",
      "Bearer abc",
      "ABCDEF0123456789",
      "short",
      "0123456789abcdef",
    ]) {
      const point = buildDataPoint({ ...meta, principal }, full);
      expect(point.blobs[BLOB.principal - 1]).toBe("unhashed");
    }
    expect(buildDataPoint({ ...meta, principal: "anonymous" }, full).blobs[BLOB.principal - 1]).toBe(
      "anonymous",
    );
  });

  it("cuts the index to 96 bytes and each blob to 256 bytes without splitting a character", () => {
    const model = `m-${"é".repeat(200)}`; // 402 bytes of UTF-8
    const point = buildDataPoint({ ...meta, model, route: "r".repeat(1000) }, full);
    const index = point.indexes[0];
    expect(new TextEncoder().encode(index).length).toBeLessThanOrEqual(96);
    expect(index.endsWith("é")).toBe(true);
    expect(index).not.toContain("\uFFFD");
    expect(point.blobs[BLOB.route - 1]).toHaveLength(256);
    const modelBlob = point.blobs[BLOB.model - 1] ?? "";
    expect(new TextEncoder().encode(modelBlob).length).toBeLessThanOrEqual(256);
    expect(model.startsWith(modelBlob)).toBe(true);
  });
});

describe("truncateUtf8", () => {
  it("returns short strings unchanged and cuts before a split multi-byte character", () => {
    expect(truncateUtf8("abc", 3)).toBe("abc");
    expect(truncateUtf8("ab€", 4)).toBe("ab"); // € is 3 bytes: 2 + 3 > 4
    expect(truncateUtf8("a😀b", 4)).toBe("a"); // the emoji is 4 bytes
    expect(truncateUtf8("a😀b", 5)).toBe("a😀");
  });
});

describe("toLogLine", () => {
  it("names every field instead of positions, with the same values as the point", () => {
    const point = buildDataPoint(meta, full);
    const line = toLogLine(point);
    expect(line).toEqual({
      event: "stream_metrics",
      index: "openai/gpt-4o-mini",
      route: "native/openai-chat",
      provider: "openai",
      model: "openai/gpt-4o-mini",
      outcome: "complete",
      guardrail: "redact:openai_key",
      colo: "FRA",
      country: "DE",
      principal: "key:ci-batch",
      tokensSource: "exact",
      gatewayTtftMs: 345,
      upstreamTtftMs: 300,
      overheadMs: 45,
      holdbackMs: 40,
      durationMs: 2500,
      outputTokens: 120,
      tokensPerSecond: 66.5,
      gapP50Ms: 18,
      gapMaxMs: 410,
      resumes: 2,
      bytesSent: 9876,
      streamId: "Zdzmenb0rZZ8isK-xDKLiw",
      upstreamRequestId: "req_011CVx2abc",
      target: "anthropic/claude-fallback",
      attempts: 4,
      hedged: 1,
      malformedEvents: 2,
      continuations: 1,
      continuedAfter: "upstream_stalled",
      classifierVerdict: "flag:lakera",
      classifierCalls: 7,
      classifierLatencyP50Ms: 21,
      classifierLatencyMaxMs: 230,
    });
  });

  it("is one line of JSON when stringified", () => {
    const text = JSON.stringify(toLogLine(buildDataPoint(meta, noFirstToken)));
    expect(text).not.toContain("\n");
    expect(JSON.parse(text)).toMatchObject({ gatewayTtftMs: -1, outcome: "interrupted" });
  });
});

describe("locationFromCf", () => {
  it("reads colo and country from request.cf and says unknown for anything else", () => {
    expect(locationFromCf({ colo: "AMS", country: "NL", city: "Amsterdam" })).toEqual({
      colo: "AMS",
      country: "NL",
    });
    expect(locationFromCf(undefined)).toEqual({ colo: "unknown", country: "unknown" });
    expect(locationFromCf({ colo: 7, country: "x'); DROP" })).toEqual({
      colo: "unknown",
      country: "unknown",
    });
  });
});
