// Pure: command-line options -> Analytics Engine SQL, and the SQL API's JSON -> typed rows.
// Runs under `node --experimental-strip-types`: relative `.ts` imports, no enums or namespaces.
import { BLOB, DOUBLE } from "../../src/analytics/data-point.ts";

/** The dataset declared in wrangler.toml (`[[analytics_engine_datasets]] dataset`). */
export const DEFAULT_DATASET = "llm_gateway_ttft";
/** Default TTFT objective in milliseconds when `--slo` is not given. */
export const DEFAULT_SLO_MS = 800;
/** Default look-back window when `--since` is not given. */
export const DEFAULT_SINCE = "1h";

/** SQL interval units for the `--since` suffixes (the SQL API supports SECOND..YEAR intervals). */
const UNITS = { s: "SECOND", m: "MINUTE", h: "HOUR", d: "DAY" } as const;
/** Longest window per unit: data is kept three months, so anything longer only slows the query. */
const MAX_AMOUNT = { s: 7_776_000, m: 129_600, h: 2_160, d: 90 } as const;
type UnitSuffix = keyof typeof UNITS;

/**
 * Characters a model name may contain: the stored `<provider>/<model>` of what providers use
 * ("openai/gpt-4o-mini", "workers-ai/@cf/meta/llama-3.1-8b", "openrouter/org/model:free"). No quote,
 * backslash or space can reach the SQL.
 */
const MODEL_PATTERN = /^[A-Za-z0-9._:/@+-]{1,256}$/;
const DATASET_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const SINCE_PATTERN = /^([1-9][0-9]{0,6})([smhd])$/;
const SLO_PATTERN = /^[0-9]{1,6}(?:\.[0-9]{1,3})?$/;

/** Validated options of one query. */
export interface TtftOptions {
  /** The window as given, e.g. "1h" (for headings). */
  readonly since: string;
  /** The window as an SQL interval literal, e.g. `INTERVAL '1' HOUR`. */
  readonly interval: string;
  readonly model: string | undefined;
  readonly sloMs: number;
  readonly dataset: string;
}

/** A parse outcome: options, a help request, or the reason the arguments are wrong. */
export type ParsedArgs =
  | { readonly ok: true; readonly help: false; readonly options: TtftOptions }
  | { readonly ok: true; readonly help: true }
  | { readonly ok: false; readonly reason: string };

/** Usage text for `--help` and argument errors. */
export const USAGE = [
  "usage: npm run ttft -- [--since 1h] [--model MODEL] [--slo 800] [--dataset llm_gateway_ttft]",
  "  --since    window: a whole number and s, m, h or d (15m, 1h, 7d); default 1h",
  "  --model    only this model, as stored: <provider>/<model>, e.g. openai/gpt-4o-mini",
  "  --slo      TTFT objective in ms for the 'within SLO' share; default 800",
  "  --dataset  Analytics Engine dataset; default llm_gateway_ttft",
  "env: CLOUDFLARE_ACCOUNT_ID, CLOUDFLARE_API_TOKEN (Account Analytics: Read)",
].join("\n");

/** Validates a `--since` value into an SQL interval literal. */
export function parseSince(value: string): { ok: true; interval: string } | { ok: false; reason: string } {
  const match = SINCE_PATTERN.exec(value);
  const amount = match?.[1];
  const suffix = match?.[2] as UnitSuffix | undefined;
  if (amount === undefined || suffix === undefined) {
    return { ok: false, reason: `--since must look like 15m, 1h or 7d, got ${JSON.stringify(value)}` };
  }
  if (Number(amount) > MAX_AMOUNT[suffix]) {
    return { ok: false, reason: `--since ${value} is longer than the 90 days Analytics Engine keeps` };
  }
  return { ok: true, interval: `INTERVAL '${amount}' ${UNITS[suffix]}` };
}

/** Parses `--name value` and `--name=value` arguments; every value is validated before it can reach SQL. */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] ?? "";
    if (arg === "--help" || arg === "-h") return { ok: true, help: true };
    const eq = arg.indexOf("=");
    const name = eq === -1 ? arg : arg.slice(0, eq);
    if (!["--since", "--model", "--slo", "--dataset"].includes(name)) {
      return { ok: false, reason: `unknown argument ${JSON.stringify(arg)}` };
    }
    let value = eq === -1 ? undefined : arg.slice(eq + 1);
    if (value === undefined) {
      i += 1;
      value = argv[i];
    }
    if (value === undefined) return { ok: false, reason: `${name} needs a value` };
    values.set(name, value);
  }

  const since = values.get("--since") ?? DEFAULT_SINCE;
  const interval = parseSince(since);
  if (!interval.ok) return interval;

  const model = values.get("--model");
  if (model !== undefined && !MODEL_PATTERN.test(model)) {
    return { ok: false, reason: "--model may only contain letters, digits and . _ : / @ + - (at most 256)" };
  }

  const slo = values.get("--slo");
  const sloMs = slo === undefined ? DEFAULT_SLO_MS : Number(slo);
  if (slo !== undefined && (!SLO_PATTERN.test(slo) || sloMs <= 0)) {
    return {
      ok: false,
      reason: `--slo must be a positive number of milliseconds, got ${JSON.stringify(slo)}`,
    };
  }

  const dataset = values.get("--dataset") ?? DEFAULT_DATASET;
  if (!DATASET_PATTERN.test(dataset)) return { ok: false, reason: "--dataset must be an SQL identifier" };

  return { ok: true, help: false, options: { since, interval: interval.interval, model, sloMs, dataset } };
}

/** Result column names: the SQL aliases and the keys of each row the SQL API returns. */
export const COLUMN = {
  model: "model",
  streams: "streams",
  firstTokenStreams: "first_token_streams",
  ttftP50: "ttft_p50_ms",
  ttftP90: "ttft_p90_ms",
  ttftP99: "ttft_p99_ms",
  overheadP50: "overhead_p50_ms",
  overheadP99: "overhead_p99_ms",
  tokensPerSecondP50: "tokens_per_s_p50",
  withinSlo: "within_slo",
} as const;

/**
 * The per-model TTFT query. Every aggregate is weighted by `_sample_interval` so sampled rows count
 * as the rows they stand for. Measurements written as -1 (never happened) get weight 0 instead of
 * a WHERE clause, so `streams` and the SLO share still count streams that never produced a token:
 * such a stream missed its TTFT objective.
 */
export function buildTtftSql(options: TtftOptions): string {
  const model = `blob${BLOB.model}`;
  const ttft = `double${DOUBLE.gatewayTtftMs}`;
  const overhead = `double${DOUBLE.overheadMs}`;
  const rate = `double${DOUBLE.tokensPerSecond}`;
  const weight = (column: string): string => `if(${column} >= 0, _sample_interval, 0)`;
  const quantile = (q: number, column: string, alias: string): string =>
    `  quantileExactWeighted(${q})(${column}, ${weight(column)}) AS ${alias},`;
  const where = [`timestamp > NOW() - ${options.interval}`];
  // Safe to inline: parseArgs admits only MODEL_PATTERN characters (no quote or backslash).
  if (options.model !== undefined) where.push(`${model} = '${options.model}'`);
  return [
    "SELECT",
    `  ${model} AS ${COLUMN.model},`,
    `  SUM(_sample_interval) AS ${COLUMN.streams},`,
    `  SUM(${weight(ttft)}) AS ${COLUMN.firstTokenStreams},`,
    quantile(0.5, ttft, COLUMN.ttftP50),
    quantile(0.9, ttft, COLUMN.ttftP90),
    quantile(0.99, ttft, COLUMN.ttftP99),
    quantile(0.5, overhead, COLUMN.overheadP50),
    quantile(0.99, overhead, COLUMN.overheadP99),
    quantile(0.5, rate, COLUMN.tokensPerSecondP50),
    `  SUM(if(${ttft} >= 0 AND ${ttft} <= ${options.sloMs}, _sample_interval, 0)) / SUM(_sample_interval) AS ${COLUMN.withinSlo}`,
    `FROM ${options.dataset}`,
    `WHERE ${where.join("\n  AND ")}`,
    `GROUP BY ${COLUMN.model}`,
    `ORDER BY ${COLUMN.streams} DESC`,
    "FORMAT JSON",
  ].join("\n");
}

/** One model's row; a statistic is undefined when no stream had that measurement. */
export interface TtftRow {
  readonly model: string;
  readonly streams: number;
  readonly firstTokenStreams: number;
  readonly ttftP50Ms: number | undefined;
  readonly ttftP90Ms: number | undefined;
  readonly ttftP99Ms: number | undefined;
  readonly overheadP50Ms: number | undefined;
  readonly overheadP99Ms: number | undefined;
  readonly tokensPerSecondP50: number | undefined;
  readonly withinSlo: number | undefined;
}

/**
 * A numeric cell: the SQL API quotes 64-bit integers as strings (ClickHouse JSON), and an aggregate
 * over only zero weights can come back as NaN, null or -1: all of those read as "no value".
 */
function cell(value: unknown): number | undefined {
  const n =
    typeof value === "number"
      ? value
      : typeof value === "string" && value.trim() !== ""
        ? Number(value)
        : NaN;
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

/** Parses the SQL API's `FORMAT JSON` answer (`{meta, data, rows}`) into rows; untrusted input. */
export function parseTtftResponse(
  body: unknown,
): { ok: true; rows: TtftRow[] } | { ok: false; reason: string } {
  if (typeof body !== "object" || body === null || !Array.isArray((body as { data?: unknown }).data)) {
    return { ok: false, reason: "the SQL API answer has no data array" };
  }
  const rows: TtftRow[] = [];
  for (const item of (body as { data: unknown[] }).data) {
    if (typeof item !== "object" || item === null)
      return { ok: false, reason: "a data row is not an object" };
    const r = item as Record<string, unknown>;
    const model = r[COLUMN.model];
    if (typeof model !== "string") return { ok: false, reason: `a data row has no ${COLUMN.model} column` };
    rows.push({
      model,
      streams: cell(r[COLUMN.streams]) ?? 0,
      firstTokenStreams: cell(r[COLUMN.firstTokenStreams]) ?? 0,
      ttftP50Ms: cell(r[COLUMN.ttftP50]),
      ttftP90Ms: cell(r[COLUMN.ttftP90]),
      ttftP99Ms: cell(r[COLUMN.ttftP99]),
      overheadP50Ms: cell(r[COLUMN.overheadP50]),
      overheadP99Ms: cell(r[COLUMN.overheadP99]),
      tokensPerSecondP50: cell(r[COLUMN.tokensPerSecondP50]),
      withinSlo: cell(r[COLUMN.withinSlo]),
    });
  }
  return { ok: true, rows };
}
