/** The probe requests the doctor sends, built from its options. */
import { PROBE_FIELD } from "../../src/upstream/demo/probe-params.ts";
import type { DoctorOptions } from "./args.ts";
import type { ProbeSpec } from "./types.ts";

/** The probe model as the unified endpoint routes it. */
export const PROBE_MODEL_ID = "demo/probe";

/** What browsers and the official SDKs' runtimes send: an intermediary that compresses does it for these. */
export const BROWSER_ACCEPT_ENCODING = "gzip, deflate, br";

/** The two probes: as browsers ask, and explicitly without compression. */
export function probeSpecs(options: DoctorOptions): readonly ProbeSpec[] {
  const cadence = {
    events: options.events,
    intervalMs: options.intervalMs,
    payloadBytes: options.payloadBytes,
    // The pause goes in the middle: events before it show the path streams, events after it that the
    // connection survived.
    pauseAtEvent: options.pauseMs > 0 ? Math.floor(options.events / 2) + 1 : 0,
    pauseMs: options.pauseMs,
  };
  return [
    { name: "compressed", acceptEncoding: BROWSER_ACCEPT_ENCODING, ...cadence },
    { name: "identity", acceptEncoding: "identity", ...cadence },
  ];
}

/** The JSON body of one probe request. */
export function probeBody(spec: ProbeSpec): string {
  const probe: Record<string, number> = {
    events: spec.events,
    intervalMs: spec.intervalMs,
    payloadBytes: spec.payloadBytes,
  };
  if (spec.pauseMs > 0) {
    probe.pauseMs = spec.pauseMs;
    probe.pauseAtEvent = spec.pauseAtEvent;
  }
  return JSON.stringify({
    model: PROBE_MODEL_ID,
    stream: true,
    messages: [{ role: "user", content: "probe" }],
    [PROBE_FIELD]: probe,
  });
}

/** How long a probe may take before the doctor stops waiting: its cadence, its pause, and a margin. */
export function deadlineMs(spec: ProbeSpec): number {
  // The margin covers a cold start and a slow network; a path that holds the stream longer than this
  // after its last event is reported as cut by the doctor's own deadline.
  return (spec.events - 1) * spec.intervalMs + spec.pauseMs + 30_000;
}

/** The request headers of one probe (the key only in Authorization, never anywhere printed). */
export function probeHeaders(
  spec: ProbeSpec,
  key: string | undefined,
  bodyBytes: number,
): Record<string, string> {
  return {
    "content-type": "application/json",
    accept: "text/event-stream",
    "accept-encoding": spec.acceptEncoding,
    "content-length": String(bodyBytes),
    "user-agent": "llm-stream-gateway-doctor",
    ...(key === undefined ? {} : { authorization: `Bearer ${key}` }),
  };
}
