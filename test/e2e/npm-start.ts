import { readFileSync } from "node:fs";

/**
 * The `--var NAME:VALUE` settings of package.json's `start` script: what `npm start` adds to
 * wrangler.toml's [vars]. Read from the script itself, so a test of "what npm start does" follows it.
 */
export function npmStartVars(): Record<string, string> {
  const pkg: unknown = JSON.parse(readFileSync("package.json", "utf8"));
  const start = (pkg as { scripts?: { start?: unknown } }).scripts?.start;
  if (typeof start !== "string") throw new Error("package.json has no start script");
  const vars: Record<string, string> = {};
  for (const m of start.matchAll(/--var[ =]([A-Z_][A-Z0-9_]*):(\S*)/g)) {
    if (m[1] !== undefined && m[2] !== undefined) vars[m[1]] = m[2];
  }
  return vars;
}

/** wrangler.toml's `[[ratelimits]]`, read by wrangler itself: the limits a deployed gateway runs with. */
export async function deployedRateLimits(): Promise<Record<string, { limit: number; period: 10 | 60 }>> {
  const wrangler = await import("wrangler");
  const config = wrangler.unstable_readConfig({ config: "wrangler.toml" }, { hideWarnings: true });
  const limits: Record<string, { limit: number; period: 10 | 60 }> = {};
  for (const r of config.ratelimits) {
    if (r.simple.period !== 10 && r.simple.period !== 60) throw new Error(`${r.name}: unexpected period`);
    limits[r.name] = { limit: r.simple.limit, period: r.simple.period };
  }
  return limits;
}
