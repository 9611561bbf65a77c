import { describe, expect, it } from "vitest";
import {
  TIMING_COMMENT_NAME as GATEWAY_TIMING_COMMENT_NAME,
  timingComment,
} from "../../../src/analytics/server-timing.ts";
import { StreamMetrics } from "../../../src/analytics/stream-metrics.ts";
import { parseTimingComment, SseReader } from "../../../src/client/index.ts";
import { TIMING_COMMENT_NAME } from "../../../src/client/protocol.ts";
import { FakeGateway, piecesOf } from "./fake-gateway.ts";
import { chunk, numberEvents } from "./fixtures.ts";
import { collect, start } from "./harness.ts";

const encoder = new TextEncoder();

/** The comment the gateway writes for a stream with these marks (ms on a synthetic clock). */
function gatewayTrailer(): string {
  const metrics = new StreamMetrics();
  metrics.requestReceived(1000);
  metrics.upstreamSent(1004);
  metrics.upstreamHeaders(1010);
  metrics.firstUpstreamContent(1300);
  metrics.contentEvent(1300, 2);
  metrics.holdback(7.25);
  metrics.firstClientContent(1312);
  metrics.contentEvent(1340, 3);
  metrics.usage(5);
  return timingComment(metrics.snapshot(1400));
}

/** The text of the trailer's comment line, as an SSE reader hands it over. */
function commentText(block: string): string {
  return block.replace(/^: /, "").replace(/\n\n$/, "");
}

/** A chat stream that says "Hello", ends with [DONE] and then, like the gateway, the timings. */
function streamWithTrailer(trailer: string): string {
  return [
    `data: ${chunk({ role: "assistant", content: "" })}\n\n`,
    `data: ${chunk({ content: "Hello" })}\n\n`,
    `data: ${chunk({}, "stop")}\n\n`,
    "data: [DONE]\n\n",
    trailer,
  ].join("");
}

describe("the gateway's timings comment", () => {
  it("is named as the gateway names it", () => {
    expect(TIMING_COMMENT_NAME).toBe(GATEWAY_TIMING_COMMENT_NAME);
  });

  it("reads every field the gateway writes, with the gateway's values", () => {
    const timings = parseTimingComment(commentText(gatewayTrailer()));
    expect(timings).toEqual({
      gatewayTtftMs: 312,
      upstreamTtftMs: 296,
      overheadMs: 16,
      preUpstreamMs: 4,
      upstreamConnectMs: 6,
      holdbackMs: 7.3,
      durationMs: 400,
      outputTokens: 5,
      tokensSource: "exact",
      tokensPerSecond: expect.any(Number),
      gapP50Ms: expect.any(Number),
      gapMaxMs: 40,
      resumes: 0,
    });
  });

  it("is null for a keep-alive, another comment or a body that is not a JSON object", () => {
    for (const text of ["keepalive", "", "timings", "timings not json", "timings [1,2]", "timingsx {}"]) {
      expect(parseTimingComment(text), text).toBeNull();
    }
  });

  it("leaves out a field of the wrong type instead of passing it on", () => {
    const timings = parseTimingComment(
      'timings {"gatewayTtftMs":"12","upstreamTtftMs":9,"overheadMs":null,"tokensSource":"guess","extra":1}',
    );
    expect(timings).toEqual({ upstreamTtftMs: 9 });
  });
});

describe("SseReader comments", () => {
  it("shows each comment line to onComment without changing what is dispatched", () => {
    const comments: string[] = [];
    const reader = new SseReader({ onComment: (text) => comments.push(text) });
    const messages = reader.push(
      encoder.encode(": keepalive\n\ndata: a\n:no space\n\n: timings {}\nid: 3\n\n"),
    );
    expect(comments).toEqual(["keepalive", "no space", "timings {}"]);
    expect(messages).toEqual([{ event: "message", data: "a", id: undefined }]);
    expect(reader.lastEventId).toBe("3");
  });
});

describe("streamChat's result", () => {
  it("carries the gateway's timings, which follow [DONE], however the bytes are split", async () => {
    const trailer = gatewayTrailer();
    const expected = parseTimingComment(commentText(trailer));
    for (const size of [1, 7, 10_000]) {
      const gateway = new FakeGateway({
        stream: numberEvents(streamWithTrailer(trailer)),
        chunking: piecesOf(size),
      });
      const { result } = await collect(start(gateway));
      expect(result.text, `pieces of ${size}`).toBe("Hello");
      expect(result.serverTimings, `pieces of ${size}`).toEqual(expected);
    }
  });

  it("carries the timings of a resumed stream, replayed by the gateway like any event", async () => {
    const stream = numberEvents(streamWithTrailer(gatewayTrailer()));
    const gateway = new FakeGateway({
      stream,
      cut: (body) => (body.connection === 0 ? { at: stream.ends[1] ?? 0, how: "error" } : undefined),
    });
    const { result } = await collect(start(gateway));
    expect(result.resumes).toBe(1);
    expect(result.serverTimings?.gatewayTtftMs).toBe(312);
  });

  it("is null when the server sends no timings, and a server holding the connection after [DONE] does not hold the answer", async () => {
    const stream = numberEvents(streamWithTrailer(""));
    const closed = new FakeGateway({ stream });
    expect((await collect(start(closed))).result.serverTimings).toBeNull();
    const held = new FakeGateway({ stream, hangAt: (body) => body.bytes.length });
    const { result } = await collect(start(held));
    expect(result.text).toBe("Hello");
    expect(result.serverTimings).toBeNull();
    expect(held.closedByClient).toBe(1);
  });
});

describe("streamChat's resume URL", () => {
  it("is null before the headers and then names the stream on the chat URL's origin, with the resume token", async () => {
    const gateway = new FakeGateway({ stream: numberEvents(streamWithTrailer("")), resumeToken: "tok.en" });
    const stream = start(gateway);
    expect(stream.resumeUrl).toBeNull();
    await collect(stream);
    expect(stream.resumeUrl).toBe("https://gw.example/v1/streams/s-test?token=tok.en");
  });
});
