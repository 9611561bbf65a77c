/**
 * Prints one closing line for the whole `npm test` run ("N passed, N failed") from the JSON reports
 * each vitest layer wrote, so CI can read a single total.
 */
import { existsSync, readFileSync } from "node:fs";

const USAGE = `usage: node --experimental-strip-types scripts/test-summary.ts
Reads test-output/{unit,workers,e2e,browser}.json (written by the npm test layers) and prints one
line, "N passed, N failed"; exits 1 if anything failed or nothing passed. Takes no options.`;

const args = process.argv.slice(2);
if (args.length > 0) {
  const help = args.includes("--help") || args.includes("-h");
  (help ? process.stdout : process.stderr).write(
    `${help ? "" : `test-summary: unknown argument ${JSON.stringify(args[0])}\n`}${USAGE}\n`,
  );
  process.exit(help ? 0 : 2);
}

const layers = ["unit", "workers", "e2e", "browser"];
let passed = 0;
let failed = 0;
let skipped = 0;
for (const layer of layers) {
  const file = `test-output/${layer}.json`;
  if (!existsSync(file)) continue;
  const report = JSON.parse(readFileSync(file, "utf8")) as {
    numPassedTests: number;
    numFailedTests: number;
    numPendingTests: number;
    numTodoTests: number;
  };
  passed += report.numPassedTests;
  failed += report.numFailedTests;
  skipped += report.numPendingTests + report.numTodoTests;
}
console.log(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ""}`);
process.exitCode = failed > 0 || passed === 0 ? 1 : 0;
