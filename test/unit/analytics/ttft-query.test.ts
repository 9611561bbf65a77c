import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { formatTable } from "../../../scripts/ttft/format.ts";
import {
  buildTtftSql,
  parseArgs,
  parseSince,
  parseTtftResponse,
  type TtftOptions,
  type TtftRow,
} from "../../../scripts/ttft/query.ts";

function options(argv: string[]): TtftOptions {
  const parsed = parseArgs(argv);
  if (!parsed.ok || parsed.help) throw new Error(`expected options for ${argv.join(" ")}`);
  return parsed.options;
}

function rejection(argv: string[]): string {
  const parsed = parseArgs(argv);
  if (parsed.ok) throw new Error(`expected ${argv.join(" ")} to be rejected`);
  return parsed.reason;
}

describe("parseArgs", () => {
  it("defaults to the last hour, all models, an 800 ms objective and the wrangler.toml dataset", () => {
    expect(options([])).toEqual({
      since: "1h",
      interval: "INTERVAL '1' HOUR",
      model: undefined,
      sloMs: 800,
      dataset: "llm_gateway_ttft",
    });
  });

  it("reads `--name value` and `--name=value`", () => {
    expect(options(["--since", "15m", "--model=gpt-4o-mini", "--slo", "500"])).toMatchObject({
      since: "15m",
      interval: "INTERVAL '15' MINUTE",
      model: "gpt-4o-mini",
      sloMs: 500,
    });
  });

  it("asks for help with --help or -h", () => {
    expect(parseArgs(["--help"])).toEqual({ ok: true, help: true });
    expect(parseArgs(["--since", "1h", "-h"])).toEqual({ ok: true, help: true });
  });

  it("accepts model names the providers actually use", () => {
    for (const model of [
      "claude-sonnet-4-5-20250929",
      "@cf/meta/llama-3.1-8b-instruct",
      "models/gemini-2.0-flash",
      "meta-llama/llama-3.3-70b:free",
      "accounts/fireworks/models/qwen2p5-72b",
    ]) {
      expect(options(["--model", model]).model).toBe(model);
    }
  });

  it.each([
    ["x' OR '1'='1"],
    ["gpt'; DROP TABLE t; --"],
    ["a\\'b"],
    ["two words"],
    ["line\nbreak"],
    [""],
    ["m".repeat(257)],
  ])("rejects the model %j before it can reach the SQL", (model) => {
    expect(rejection(["--model", model])).toMatch(/--model/);
  });

  it.each([["1"], ["h"], ["0h"], ["1.5h"], ["1w"], ["-1h"], ["1h'"], ["1h OR 1=1"], ["91d"], [" 1h"]])(
    "rejects --since %j",
    (since) => {
      expect(rejection(["--since", since])).toMatch(/--since/);
    },
  );

  it("rejects a bad objective, dataset, unknown flag or missing value", () => {
    expect(rejection(["--slo", "0"])).toMatch(/--slo/);
    expect(rejection(["--slo", "800ms"])).toMatch(/--slo/);
    expect(rejection(["--slo", "1e3"])).toMatch(/--slo/);
    expect(rejection(["--dataset", "ttft; SELECT 1"])).toMatch(/--dataset/);
    expect(rejection(["--sloo", "1"])).toMatch(/unknown argument/);
    expect(rejection(["--model"])).toMatch(/needs a value/);
  });
});

describe("parseSince", () => {
  it("maps each suffix to its SQL interval unit", () => {
    expect(parseSince("30s")).toEqual({ ok: true, interval: "INTERVAL '30' SECOND" });
    expect(parseSince("15m")).toEqual({ ok: true, interval: "INTERVAL '15' MINUTE" });
    expect(parseSince("24h")).toEqual({ ok: true, interval: "INTERVAL '24' HOUR" });
    expect(parseSince("7d")).toEqual({ ok: true, interval: "INTERVAL '7' DAY" });
    expect(parseSince("90d")).toEqual({ ok: true, interval: "INTERVAL '90' DAY" });
  });
});

describe("buildTtftSql", () => {
  it("queries the documented columns, weighted by the sample interval, per model", () => {
    const sql = buildTtftSql(options(["--since", "7d", "--slo", "500"]));
    expect(sql).toContain("blob3 AS model");
    expect(sql).toContain("SUM(_sample_interval) AS streams");
    expect(sql).toContain(
      "quantileExactWeighted(0.5)(double1, if(double1 >= 0, _sample_interval, 0)) AS ttft_p50_ms",
    );
    expect(sql).toContain(
      "quantileExactWeighted(0.9)(double1, if(double1 >= 0, _sample_interval, 0)) AS ttft_p90_ms",
    );
    expect(sql).toContain(
      "quantileExactWeighted(0.99)(double1, if(double1 >= 0, _sample_interval, 0)) AS ttft_p99_ms",
    );
    expect(sql).toContain(
      "quantileExactWeighted(0.5)(double3, if(double3 >= 0, _sample_interval, 0)) AS overhead_p50_ms",
    );
    expect(sql).toContain(
      "quantileExactWeighted(0.5)(double7, if(double7 >= 0, _sample_interval, 0)) AS tokens_per_s_p50",
    );
    expect(sql).toContain(
      "SUM(if(double1 >= 0 AND double1 <= 500, _sample_interval, 0)) / SUM(_sample_interval) AS within_slo",
    );
    expect(sql).toContain("FROM llm_gateway_ttft");
    expect(sql).toContain("WHERE timestamp > NOW() - INTERVAL '7' DAY");
    expect(sql).toContain("GROUP BY model");
    expect(sql).toMatch(/FORMAT JSON$/);
    expect(sql).not.toContain("blob3 = ");
  });

  it("filters by model only when asked", () => {
    const sql = buildTtftSql(options(["--model", "gpt-4o-mini", "--dataset", "staging_ttft"]));
    expect(sql).toContain("WHERE timestamp > NOW() - INTERVAL '1' HOUR\n  AND blob3 = 'gpt-4o-mini'");
    expect(sql).toContain("FROM staging_ttft");
  });

  it("is the same text as the SQL in docs/analytics.md", () => {
    const doc = readFileSync(new URL("../../../docs/analytics.md", import.meta.url), "utf8");
    const block = /```sql\n(SELECT\n {2}blob3 AS model,[\s\S]*?)\n```/.exec(doc)?.[1];
    expect(block).toBe(buildTtftSql(options([])));
  });
});

describe("parseTtftResponse", () => {
  it("reads numbers given as numbers or (64-bit) strings and treats NaN, null and -1 as no value", () => {
    const parsed = parseTtftResponse({
      meta: [{ name: "model", type: "String" }],
      data: [
        {
          model: "m",
          streams: "12",
          first_token_streams: "0",
          ttft_p50_ms: -1,
          ttft_p90_ms: null,
          ttft_p99_ms: "nan",
          overhead_p50_ms: 0,
          overhead_p99_ms: "7.5",
          tokens_per_s_p50: 42.25,
          within_slo: 0,
        },
      ],
      rows: 1,
    });
    expect(parsed).toEqual({
      ok: true,
      rows: [
        {
          model: "m",
          streams: 12,
          firstTokenStreams: 0,
          ttftP50Ms: undefined,
          ttftP90Ms: undefined,
          ttftP99Ms: undefined,
          overheadP50Ms: 0,
          overheadP99Ms: 7.5,
          tokensPerSecondP50: 42.25,
          withinSlo: 0,
        },
      ],
    });
  });

  it("rejects answers without a data array or with rows missing the model", () => {
    expect(parseTtftResponse({ errors: ["x"] })).toMatchObject({ ok: false });
    expect(parseTtftResponse(null)).toMatchObject({ ok: false });
    expect(parseTtftResponse({ data: [{ streams: 1 }] })).toMatchObject({ ok: false });
    expect(parseTtftResponse({ data: [3] })).toMatchObject({ ok: false });
  });
});

describe("formatTable", () => {
  const row: TtftRow = {
    model: "gpt-4o-mini",
    streams: 1840,
    firstTokenStreams: 1822,
    ttftP50Ms: 412.4,
    ttftP90Ms: 690.6,
    ttftP99Ms: 1480,
    overheadP50Ms: 3,
    overheadP99Ms: 41,
    tokensPerSecondP50: 87.34,
    withinSlo: 0.93125,
  };

  it("prints a heading, a header, a rule and one aligned row per model", () => {
    const text = formatTable([row, { ...row, model: "m2", ttftP50Ms: undefined, withinSlo: undefined }], {
      since: "1h",
      sloMs: 800,
      model: undefined,
    });
    const lines = text.trimEnd().split("\n");
    expect(lines[0]).toBe("TTFT over the last 1h, all models (times in ms, SLO 800 ms)");
    expect(lines[1]).toMatch(
      /^model\s+streams\s+1st token\s+ttft p50\s+p90\s+p99\s+overhead p50\s+p99\s+tok\/s p50\s+<= 800 ms$/,
    );
    expect(lines[2]).toMatch(/^-+( {2}-+){9}$/);
    expect(lines[3]?.split(/\s+/)).toEqual([
      "gpt-4o-mini",
      "1840",
      "1822",
      "412",
      "691",
      "1480",
      "3",
      "41",
      "87.3",
      "93.1%",
    ]);
    expect(lines[4]?.split(/\s+/)).toEqual([
      "m2",
      "1840",
      "1822",
      "-",
      "691",
      "1480",
      "3",
      "41",
      "87.3",
      "-",
    ]);
    // Every row ends its right-aligned last column at the header's last column.
    expect(lines[3]?.length).toBe(lines[1]?.length);
  });

  it("says so when the window holds no streams", () => {
    const text = formatTable([], { since: "15m", sloMs: 500, model: "x" });
    expect(text).toBe(
      "TTFT over the last 15m, model x (times in ms, SLO 500 ms)\nNo streams recorded in this window.\n",
    );
  });
});
