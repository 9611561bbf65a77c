import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { cruise, type ICruiseResult, type IForbiddenRuleType } from "dependency-cruiser";
import { describe, expect, it } from "vitest";

// The project's own rules, exactly as `npm run check:layers` applies them.
const rules = createRequire(import.meta.url)("../../.dependency-cruiser.cjs") as {
  forbidden: IForbiddenRuleType[];
};

/** Writes `files` into a fresh tree and cruises its `src` with the project's rules. */
async function violationsIn(files: Record<string, string>): Promise<string[]> {
  const dir = mkdtempSync(path.join(tmpdir(), "layers-"));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  const result = await cruise(["src"], {
    baseDir: dir,
    validate: true,
    ruleSet: { forbidden: rules.forbidden },
    tsPreCompilationDeps: true,
  });
  const output = result.output as ICruiseResult;
  return output.summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`);
}

describe("the layer rule (docs/architecture.md)", () => {
  it("lets imports point down the layers", async () => {
    expect(
      await violationsIn({
        "src/protocol.ts": "export const A = 1;\n",
        "src/pipeline/stage.ts": 'import { A } from "../protocol.ts";\nexport const B = A;\n',
        "src/exchange/run.ts": 'import { B } from "../pipeline/stage.ts";\nexport const C = B;\n',
      }),
    ).toEqual([]);
  });

  it("fails a wrong-way import, a type-only one included", async () => {
    expect(
      await violationsIn({
        "src/config.ts": "export interface Settings { readonly n: number }\n",
        "src/pipeline/stage.ts": 'import type { Settings } from "../config.ts";\nexport type S = Settings;\n',
      }),
    ).toEqual(["pipeline-not-above: src/pipeline/stage.ts → src/config.ts"]);
  });

  it("fails an import cycle and a client module reaching into the worker", async () => {
    const found = await violationsIn({
      "src/upstream/a.ts": 'import { b } from "./b.ts";\nexport const a = () => b;\n',
      "src/upstream/b.ts": 'import { a } from "./a.ts";\nexport const b = () => a;\n',
      "src/protocol.ts": "export const P = 1;\n",
      "src/client/x.ts": 'import { P } from "../protocol.ts";\nexport const X = P;\n',
    });
    expect(found).toContain("no-circular: src/upstream/a.ts → src/upstream/b.ts");
    expect(found).toContain("client-stands-alone: src/client/x.ts → src/protocol.ts");
  });

  it("finds nothing wrong in the gateway itself", async () => {
    const result = await cruise(["src"], {
      validate: true,
      ruleSet: { forbidden: rules.forbidden },
      tsPreCompilationDeps: true,
      exclude: { path: "\\.gen\\.ts$" },
    });
    const output = result.output as ICruiseResult;
    expect(output.summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`)).toEqual([]);
    expect(output.summary.totalCruised).toBeGreaterThan(100);
  });
});
