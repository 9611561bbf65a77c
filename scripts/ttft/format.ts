// Pure: typed rows -> a fixed-width text table for the terminal.
import type { TtftOptions, TtftRow } from "./query.ts";

/** Printed where a statistic has no value (no stream had that measurement). */
export const NO_VALUE = "-";

interface Column {
  readonly title: string;
  readonly align: "left" | "right";
  readonly value: (row: TtftRow) => string;
}

/** Whole milliseconds: the clock in Workers has 1 ms resolution, decimals would be noise. */
function ms(v: number | undefined): string {
  return v === undefined ? NO_VALUE : String(Math.round(v));
}

function rate(v: number | undefined): string {
  return v === undefined ? NO_VALUE : v.toFixed(1);
}

function share(v: number | undefined): string {
  return v === undefined ? NO_VALUE : `${(v * 100).toFixed(1)}%`;
}

function columns(sloMs: number): readonly Column[] {
  return [
    { title: "model", align: "left", value: (r) => r.model },
    { title: "streams", align: "right", value: (r) => String(Math.round(r.streams)) },
    { title: "1st token", align: "right", value: (r) => String(Math.round(r.firstTokenStreams)) },
    { title: "ttft p50", align: "right", value: (r) => ms(r.ttftP50Ms) },
    { title: "p90", align: "right", value: (r) => ms(r.ttftP90Ms) },
    { title: "p99", align: "right", value: (r) => ms(r.ttftP99Ms) },
    { title: "overhead p50", align: "right", value: (r) => ms(r.overheadP50Ms) },
    { title: "p99", align: "right", value: (r) => ms(r.overheadP99Ms) },
    { title: "tok/s p50", align: "right", value: (r) => rate(r.tokensPerSecondP50) },
    { title: `<= ${sloMs} ms`, align: "right", value: (r) => share(r.withinSlo) },
  ];
}

/**
 * The report: a heading naming the window and objective, then one aligned row per model (times in
 * ms, "<= N ms" is the share of all streams whose first token came within the objective).
 */
export function formatTable(
  rows: readonly TtftRow[],
  options: Pick<TtftOptions, "since" | "sloMs" | "model">,
): string {
  const scope = options.model === undefined ? "all models" : `model ${options.model}`;
  const heading = `TTFT over the last ${options.since}, ${scope} (times in ms, SLO ${options.sloMs} ms)`;
  if (rows.length === 0) return `${heading}\nNo streams recorded in this window.\n`;
  const cols = columns(options.sloMs);
  const cells = rows.map((row) => cols.map((c) => c.value(row)));
  const widths = cols.map((c, i) => Math.max(c.title.length, ...cells.map((line) => (line[i] ?? "").length)));
  const render = (line: readonly string[]): string =>
    line
      .map((text, i) => {
        const width = widths[i] ?? text.length;
        return cols[i]?.align === "left" ? text.padEnd(width) : text.padStart(width);
      })
      .join("  ")
      .trimEnd();
  const header = render(cols.map((c) => c.title));
  const rule = widths.map((w) => "-".repeat(w)).join("  ");
  return `${[heading, header, rule, ...cells.map(render)].join("\n")}\n`;
}
