/** Renders scenario rows as one plain-text table, targets side by side, goals on the right. */
import type { Row, Unit } from "./scenario.ts";

/** A titled block of rows. */
export interface Section {
  readonly title: string;
  readonly rows: readonly Row[];
}

/** Sub-millisecond figures need microsecond digits; throughput and memory do not. */
function formatValue(v: number | undefined, unit: Unit): string {
  if (v === undefined || Number.isNaN(v)) return "—";
  switch (unit) {
    case "ms":
      return Math.abs(v) < 100 ? v.toFixed(3) : v.toFixed(1);
    case "events/s":
    case "streams":
      return Math.round(v).toLocaleString("en-US");
    case "µs":
    case "MiB":
    case "MB/s":
    case "rows":
      return v.toFixed(1);
  }
}

function goalText(row: Row): string {
  if (row.goal === undefined) return row.note === undefined ? "" : `(${row.note})`;
  const status = row.goal.status === "not met" ? "NOT MET" : row.goal.status;
  return `${row.goal.goal}: ${row.goal.detail} → ${status}`;
}

/**
 * The table as lines; `columns` are target ids in order. The last column holds each row's goal
 * (naming the target it judges) or, in parentheses, its note.
 */
export function renderTable(sections: readonly Section[], columns: readonly string[]): string {
  const header = ["metric", ...columns, "goal / note"];
  const body: (string[] | string)[] = [];
  for (const s of sections) {
    body.push(s.title);
    for (const r of s.rows) {
      body.push([
        `${r.metric} (${r.unit})`,
        ...columns.map((c) => formatValue(r.values[c], r.unit)),
        goalText(r),
      ]);
    }
  }
  const widths = header.map((h, i) =>
    Math.max(h.length, ...body.map((line) => (typeof line === "string" ? 0 : (line[i] ?? "").length))),
  );
  const fmt = (cells: readonly string[]): string =>
    cells
      .map((c, i) => {
        const w = widths[i] ?? 0;
        // Metric names left-aligned, numbers right-aligned so decimals line up, goal text as is.
        if (i === 0) return c.padEnd(w);
        if (i === cells.length - 1) return c;
        return c.padStart(w);
      })
      .join("  ")
      .trimEnd();
  const rule = "─".repeat(widths.reduce((a, w) => a + w + 2, -2));
  const out = [fmt(header), rule];
  for (const line of body) out.push(typeof line === "string" ? `· ${line}` : fmt(line));
  out.push(rule);
  return out.join("\n");
}
