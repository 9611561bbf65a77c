/** Runs the doctor's probes and judges them; the CLI and the tests call this. */
import { advise } from "./advice.ts";
import type { DoctorOptions } from "./args.ts";
import { type CaptureFn, captureProbe } from "./capture.ts";
import { classify, isProblem } from "./classify.ts";
import { diagnose } from "./diagnose.ts";
import { probeSpecs } from "./plan.ts";
import type { DoctorReport, ProbeResult } from "./report.ts";

/** Exit codes: streams, a problem on the path, wrong arguments, no probe could run. */
export const EXIT = { ok: 0, problem: 1, usage: 2, noProbe: 3 } as const;

/** The doctor's finding: a report, or why no probe could be judged. */
export type DoctorOutcome =
  | { readonly kind: "report"; readonly report: DoctorReport }
  | { readonly kind: "unusable"; readonly message: string };

/**
 * Sends both probes at once (they use separate connections, and a pause then costs its length once,
 * not twice) and judges each.
 */
export async function runDoctor(
  options: DoctorOptions,
  capture: CaptureFn = captureProbe,
): Promise<DoctorOutcome> {
  const specs = probeSpecs(options);
  const captures = await Promise.all(specs.map((spec) => capture(options.endpoint, spec, options.key)));
  const probes: ProbeResult[] = [];
  for (const c of captures) {
    const problem = diagnose(options.endpoint, c, options.key !== undefined);
    if (problem !== undefined) return { kind: "unusable", message: problem };
    if (c.kind !== "stream") continue;
    const verdict = classify(c.record);
    probes.push({ record: c.record, verdict, advice: advise(c.record, verdict) });
  }
  const first = specs[0];
  return {
    kind: "report",
    report: {
      endpoint: options.endpoint.href,
      cadence: {
        events: options.events,
        intervalMs: options.intervalMs,
        payloadBytes: options.payloadBytes,
        pauseMs: options.pauseMs,
        pauseAtEvent: first?.pauseAtEvent ?? 0,
      },
      probes,
      ok: probes.every((p) => !isProblem(p.verdict)),
    },
  };
}

/** The exit code of an outcome. */
export function exitCodeOf(outcome: DoctorOutcome): number {
  if (outcome.kind === "unusable") return EXIT.noProbe;
  return outcome.report.ok ? EXIT.ok : EXIT.problem;
}
