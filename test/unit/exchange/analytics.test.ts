import { describe, expect, it } from "vitest";
import { BLOB, toLogLine } from "../../../src/analytics/data-point.ts";
import { recordingSink } from "../../../src/analytics/sink.ts";
import { attachAnalytics } from "../../../src/exchange/analytics.ts";
import { StreamState } from "../../../src/pipeline/stream-state.ts";
import { STREAM_OUTCOME } from "../../../src/protocol.ts";

const meta = {
  route: "native/anthropic",
  provider: "anthropic",
  model: "anthropic/claude-sonnet-4-5",
  colo: "DFW",
  country: "US",
  principal: "anonymous",
};

describe("attachAnalytics", () => {
  it("names the stream by the ids known when it ends, the upstream's included (set after the state)", () => {
    const state = new StreamState();
    const sink = recordingSink();
    attachAnalytics(state, () => ({ ...meta, streamId: "c8Jt4nW2yQ6eF1hK9pZ3uB" }), sink);
    // The upstream's headers arrive after the state exists; the route sets the id then.
    state.upstreamRequestId = "req_011CVx2abc";
    state.finish(STREAM_OUTCOME.complete);
    expect(sink.points).toHaveLength(1);
    const line = toLogLine(sink.points[0] ?? { indexes: [""], blobs: [], doubles: [] });
    expect(line).toMatchObject({
      streamId: "c8Jt4nW2yQ6eF1hK9pZ3uB",
      upstreamRequestId: "req_011CVx2abc",
      outcome: "complete",
    });
  });

  it("writes empty ids for a direct stream whose upstream sent no request id", () => {
    const state = new StreamState();
    const sink = recordingSink();
    attachAnalytics(state, () => meta, sink);
    state.finish(STREAM_OUTCOME.cancelled);
    const blobs = sink.points[0]?.blobs ?? [];
    expect(blobs[BLOB.streamId - 1]).toBe("");
    expect(blobs[BLOB.upstreamRequestId - 1]).toBe("");
  });

  it("estimates a cut stream whose only usage was a placeholder instead of writing it as exact", () => {
    const state = new StreamState();
    const sink = recordingSink();
    attachAnalytics(state, () => meta, sink);
    state.outputTokens = 1; // Anthropic's message_start; the stream was cut before message_delta
    for (let i = 0; i < 4; i += 1) state.metrics.contentEvent(100 + i, 2);
    state.finish(STREAM_OUTCOME.interrupted);
    const line = toLogLine(sink.points[0] ?? { indexes: [""], blobs: [], doubles: [] });
    expect(line).toMatchObject({ tokensSource: "estimated", outputTokens: 8 });
  });
});
