import { describe, expect, it } from "vitest";
import { serverTimingHeader, timingComment } from "../../../src/analytics/server-timing.ts";
import { StreamMetrics } from "../../../src/analytics/stream-metrics.ts";
import { STREAM_OUTCOME } from "../../../src/protocol.ts";

// W3C Server Timing: metric = token *( ";" param ), param = token "=" ( token / quoted-string ).
const TOKEN = "[!#$%&'*+\\-.^_`|~0-9A-Za-z]+";
const QUOTED = '"(?:[^"\\\\]|\\\\.)*"';
const METRIC = new RegExp(`^${TOKEN}(?:;${TOKEN}=(?:${TOKEN}|${QUOTED}))*$`);

describe("serverTimingHeader", () => {
  it("produces comma-separated metrics that match the Server-Timing grammar", () => {
    const value = serverTimingHeader({ preUpstreamMs: 2, upstreamConnectMs: 120.456 });
    expect(value).toBeDefined();
    const metrics = (value ?? "").split(", ");
    expect(metrics).toHaveLength(2);
    for (const metric of metrics) expect(metric).toMatch(METRIC);
    expect(metrics[0]).toMatch(/^gateway;dur=2;desc="/);
    expect(metrics[1]).toMatch(/^upstream-connect;dur=120\.5;desc="/);
  });

  it("leaves out unknown timings and gives undefined when nothing is known", () => {
    expect(serverTimingHeader({ upstreamConnectMs: 80 })).toMatch(/^upstream-connect;dur=80;/);
    expect(serverTimingHeader({ preUpstreamMs: undefined, upstreamConnectMs: Number.NaN })).toBeUndefined();
    expect(serverTimingHeader({})).toBeUndefined();
  });

  it("takes a metrics snapshot at header time: the gateway's own time, then the upstream's connect", () => {
    const m = new StreamMetrics();
    m.requestReceived(1000);
    m.upstreamSent(1004);
    m.upstreamHeaders(1130);
    expect(serverTimingHeader(m.snapshot())).toBe(
      'gateway;dur=4;desc="request received to upstream request sent", ' +
        'upstream-connect;dur=126;desc="upstream request sent to upstream headers"',
    );
    // Without a request mark (a non-streaming answer is not tracked) only the connect time is known.
    const untracked = new StreamMetrics();
    untracked.upstreamSent(1004);
    untracked.upstreamHeaders(1130);
    expect(serverTimingHeader(untracked.snapshot())).toMatch(/^upstream-connect;dur=126;/);
  });

  it("never writes a negative or exponent-notation duration", () => {
    const value = serverTimingHeader({ preUpstreamMs: -3, upstreamConnectMs: 1e30 }) ?? "";
    expect(value).toContain("gateway;dur=0;");
    expect(value).toContain("upstream-connect;dur=1000000000;");
    expect(value).not.toMatch(/e\+/);
  });
});

/** Splits an SSE text into lines the way the SSE spec does (CRLF, LF or CR). */
function sseLines(text: string): string[] {
  return text.split(/\r\n|\r|\n/);
}

describe("timingComment", () => {
  function finished(): StreamMetrics {
    const m = new StreamMetrics();
    m.requestReceived(1000);
    m.upstreamSent(1002);
    m.upstreamHeaders(1100);
    for (let i = 0; i < 5; i += 1) m.contentEvent(1302 + i * 25, 2);
    m.firstClientContent(1310);
    m.usage(9);
    return m;
  }

  it("is one SSE comment line followed by the blank line, so clients ignore it", () => {
    const text = timingComment(finished().snapshot(1500));
    expect(text.endsWith("\n\n")).toBe(true);
    const lines = sseLines(text);
    expect(lines).toEqual([expect.stringMatching(/^: timings \{.*\}$/), "", ""]);
    // A comment line starts with ":"; no line of the block may be a field (data:, event:, id:, retry:).
    expect(lines.filter((l) => l !== "").every((l) => l.startsWith(":"))).toBe(true);
  });

  it("carries the stream's timings as JSON, leaving out what was never measured", () => {
    const line = sseLines(timingComment(finished().snapshot(1500)))[0] ?? "";
    const json: unknown = JSON.parse(line.slice(": timings ".length));
    expect(json).toEqual({
      gatewayTtftMs: 310,
      upstreamTtftMs: 300,
      overheadMs: 10,
      preUpstreamMs: 2,
      upstreamConnectMs: 98,
      holdbackMs: 0,
      durationMs: 500,
      outputTokens: 9,
      tokensSource: "exact",
      tokensPerSecond: 70,
      gapP50Ms: 25,
      gapMaxMs: 25,
      resumes: 0,
    });

    const empty = new StreamMetrics();
    empty.requestReceived(0);
    empty.end(50, STREAM_OUTCOME.cancelled);
    const emptyJson: unknown = JSON.parse((sseLines(timingComment(empty.snapshot()))[0] ?? "").slice(10));
    expect(emptyJson).toEqual({
      holdbackMs: 0,
      durationMs: 50,
      outputTokens: 0,
      tokensSource: "estimated",
      resumes: 0,
    });
  });
});
