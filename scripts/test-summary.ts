/**
 * Prints one closing line for the whole `npm test` run ("N passed, N failed") from the JSON reports
 * each vitest layer wrote, so CI can read a single total.
 */
import { existsSync, readFileSync } from "node:fs";

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
