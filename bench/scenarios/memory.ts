/** Peak memory of each worker target's workerd process over the whole run. */
import { readMemory } from "../proc.ts";
import type { BenchContext, Scenario } from "../scenario.ts";

/**
 * Reads VmHWM (the kernel's high-water mark of resident memory) of every target that has a
 * workerd process. Run it last so it covers every scenario before it, the concurrent one above all.
 */
export function peakMemoryScenario(): Scenario {
  return {
    id: "peak-memory",
    title: "Peak memory (workerd process, whole run)",
    async run(ctx: BenchContext) {
      const values: Record<string, number | undefined> = {};
      for (const t of ctx.targets.values()) {
        values[t.id] = t.pid === undefined ? undefined : readMemory(t.pid)?.peakMiB;
      }
      return { rows: [{ metric: "workerd VmHWM", unit: "MiB", values }], detail: { peakMiB: values } };
    },
  };
}
