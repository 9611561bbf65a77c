/** The doctor's output: a short table for people, one JSON document for machines. Pure. */
import type { Advice, ProbeRecord, Problem, Verdict } from "./types.ts";

/** One probe, judged. */
export interface ProbeResult {
  readonly record: ProbeRecord;
  readonly verdict: Verdict;
  readonly advice: readonly Advice[];
}

/** Everything the doctor found. */
export interface DoctorReport {
  readonly endpoint: string;
  readonly cadence: {
    readonly events: number;
    readonly intervalMs: number;
    readonly payloadBytes: number;
    readonly pauseMs: number;
    readonly pauseAtEvent: number;
  };
  readonly probes: readonly ProbeResult[];
  /** True when every probe streamed cleanly. */
  readonly ok: boolean;
}

/** Headers worth showing: what the stream is, and who handled it on the way. */
export const SHOWN_HEADERS = [
  "content-type",
  "cache-control",
  "x-accel-buffering",
  "content-encoding",
  "transfer-encoding",
  "content-length",
  "via",
  "server",
  "cf-ray",
] as const;

function ms(value: number | undefined): string {
  if (value === undefined) return "—";
  return value >= 10_000 ? `${(value / 1000).toFixed(1)} s` : `${Math.round(value)} ms`;
}

function problemText(p: Problem): string {
  switch (p.kind) {
    case "buffered":
      return `fully buffered (held ${ms(p.heldMs)})`;
    case "coalescing":
      return `coalescing (bursts of up to ${p.largestBurst})`;
    case "compressed":
      return `compressed (${p.encoding})`;
    case "cut":
      return `cut at ${ms(p.atMs)} (idle ${ms(p.idleMs)})`;
    case "error":
      return "error event";
  }
}

/** The verdict column: the headline problem first, then the others. */
export function verdictText(v: Verdict): string {
  const head = v.problems.find((p) => p.kind === v.kind);
  const rest = v.problems.filter((p) => p !== head);
  const parts = [head === undefined ? `streaming (worst hold ${ms(v.heldMs)})` : problemText(head)];
  parts.push(...rest.map(problemText));
  if (v.keepAlives > 0) parts.push(`${v.keepAlives} keep-alive${v.keepAlives === 1 ? "" : "s"} seen`);
  return parts.join(" + ");
}

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length))) ?? [];
  return rows
    .map((r) =>
      r
        .map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c] ?? 0)))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

function headerLine(record: ProbeRecord): string {
  const shown = SHOWN_HEADERS.flatMap((name) => {
    const value = record.headers[name];
    return value === undefined ? [] : [`${name}: ${value.length > 70 ? `${value.slice(0, 70)}…` : value}`];
  });
  return shown.join(" · ");
}

/** The report for people: cadence, a table, the headers, then each problem with its layer and fix. */
export function formatText(report: DoctorReport): string {
  const c = report.cadence;
  const pause = c.pauseMs > 0 ? `, silent ${ms(c.pauseMs)} before event ${c.pauseAtEvent}` : "";
  const lines = [
    `doctor: ${report.endpoint}`,
    `probe: ${c.events} events ${c.intervalMs} ms apart${c.payloadBytes > 0 ? `, ${c.payloadBytes} B padding each` : ""}${pause}`,
    "",
    table([
      ["probe", "accept-encoding", "status", "http", "ttfb", "1st event", "events", "verdict"],
      ...report.probes.map(({ record, verdict }) => [
        record.spec.name,
        record.spec.acceptEncoding,
        String(record.status),
        record.httpVersion,
        ms(verdict.ttfbMs),
        ms(verdict.firstEventMs),
        `${verdict.received}/${verdict.expected}`,
        verdictText(verdict),
      ]),
    ]),
    "",
    ...report.probes.map(({ record }) => `headers (${record.spec.name}): ${headerLine(record)}`),
  ];
  const advice = report.probes.flatMap((p) => p.advice);
  if (advice.length > 0) {
    lines.push("", "problems:");
    for (const a of advice) {
      lines.push(
        `  ✗ ${a.probe} probe: ${a.summary}`,
        `    likely layer: ${a.layer}`,
        `    fix: ${a.fix}`,
        `    see ${a.doc}`,
      );
    }
  }
  lines.push(
    "",
    report.ok
      ? "result: the path streams: every event arrived on its own, uncompressed (exit 0)"
      : "result: the path buffers, compresses or cuts the stream (exit 1)",
  );
  return `${lines.join("\n")}\n`;
}

/** The same as one JSON document (`npm run -s doctor -- <url> --json`). */
export function formatJson(report: DoctorReport): string {
  return `${JSON.stringify(
    {
      endpoint: report.endpoint,
      ok: report.ok,
      cadence: report.cadence,
      probes: report.probes.map(({ record, verdict, advice }) => ({
        name: record.spec.name,
        acceptEncoding: record.spec.acceptEncoding,
        status: record.status,
        httpVersion: record.httpVersion,
        headers: Object.fromEntries(
          SHOWN_HEADERS.flatMap((h) => (record.headers[h] === undefined ? [] : [[h, record.headers[h]]])),
        ),
        ttfbMs: verdict.ttfbMs,
        headersMs: record.headersMs,
        firstEventMs: verdict.firstEventMs,
        doneMs: record.doneMs,
        end: record.end,
        rawChunks: record.rawChunks,
        rawBytes: record.rawBytes,
        verdict: verdict.kind,
        problems: verdict.problems,
        received: verdict.received,
        expected: verdict.expected,
        bursts: verdict.bursts,
        keepAlives: verdict.keepAlives,
        heldMs: verdict.heldMs,
        timeline: verdict.timeline,
        advice,
      })),
    },
    // Times to a tenth of a millisecond: the clocks are not finer than that across a network.
    (_key, value: unknown) =>
      typeof value === "number" && !Number.isInteger(value) ? Math.round(value * 10) / 10 : value,
    2,
  )}\n`;
}
