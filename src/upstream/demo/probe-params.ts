/**
 * The parameters of the demo provider's `probe` model, read from the request body's `probe` object.
 * Self-contained (no imports) so that `npm run doctor`, which runs on Node outside the worker, shares
 * the same names, defaults and bounds.
 */

/** The probe model's name on the demo provider (`demo/probe` on `/v1/chat/completions`). */
export const PROBE_MODEL = "probe";

/** The request body field with the parameters, and the chunk field with each event's sequence and send time. */
export const PROBE_FIELD = "probe";

/** The text of every probe event: a word without digits, so the default guardrail has nothing to hold back. */
export const PROBE_TOKEN = " tick";

/** The probe's cadence and shape. */
export interface ProbeParams {
  /** How many events carry a probe stamp (the finish chunk and `[DONE]` follow them). */
  readonly events: number;
  /** Milliseconds between two events; the first is sent at once. */
  readonly intervalMs: number;
  /** Letters of padding added to every event, to see buffers that flush only when full. */
  readonly payloadBytes: number;
  /** The silent pause comes before this event (1-based); 0 when there is no pause. */
  readonly pauseAtEvent: number;
  /** Length of the silent pause, to find idle timeouts. */
  readonly pauseMs: number;
}

/** Bounds of every parameter: a probe is a diagnostic, so it stays short and small. */
export const PROBE_LIMITS = {
  events: { min: 1, max: 1000 },
  intervalMs: { min: 0, max: 10_000 },
  payloadBytes: { min: 0, max: 65_536 },
  // Ten minutes covers every idle timeout named in docs/proxies.md (Envoy's 5 minutes is the longest).
  pauseMs: { min: 0, max: 600_000 },
  // Events × interval, so a probe without a pause ends within ten minutes too.
  cadenceMs: { max: 600_000 },
} as const;

/** The probe when the request gives no parameters: 20 events 100 ms apart, no padding, no pause. */
export const PROBE_DEFAULTS: ProbeParams = {
  events: 20,
  intervalMs: 100,
  payloadBytes: 0,
  pauseAtEvent: 0,
  pauseMs: 0,
};

const KNOWN = ["events", "intervalMs", "payloadBytes", "pauseAtEvent", "pauseMs"] as const;

/** The parameters, or the message of a 400 naming the field that is wrong. */
export type ProbeParamsResult =
  | { readonly ok: true; readonly params: ProbeParams }
  | { readonly ok: false; readonly field: string; readonly message: string };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Reads `body.probe`; a missing object means the defaults, anything malformed a tagged error. */
export function parseProbeParams(body: Readonly<Record<string, unknown>>): ProbeParamsResult {
  const raw = body[PROBE_FIELD];
  if (raw === undefined || raw === null) return { ok: true, params: PROBE_DEFAULTS };
  if (!isRecord(raw)) return fail(PROBE_FIELD, `"${PROBE_FIELD}" must be an object`);
  for (const key of Object.keys(raw)) {
    if (!(KNOWN as readonly string[]).includes(key)) {
      const field = `${PROBE_FIELD}.${key.slice(0, 40)}`;
      return fail(field, `"${field}" is not a probe parameter; use ${KNOWN.join(", ")}`);
    }
  }
  const events = int(raw, "events", PROBE_DEFAULTS.events, PROBE_LIMITS.events);
  if (typeof events === "object") return events;
  const intervalMs = int(raw, "intervalMs", PROBE_DEFAULTS.intervalMs, PROBE_LIMITS.intervalMs);
  if (typeof intervalMs === "object") return intervalMs;
  const payloadBytes = int(raw, "payloadBytes", PROBE_DEFAULTS.payloadBytes, PROBE_LIMITS.payloadBytes);
  if (typeof payloadBytes === "object") return payloadBytes;
  const pauseMs = int(raw, "pauseMs", PROBE_DEFAULTS.pauseMs, PROBE_LIMITS.pauseMs);
  if (typeof pauseMs === "object") return pauseMs;
  // Without a position, the pause goes in the middle: events before it prove the path streams,
  // events after it prove the connection survived.
  const middle = Math.floor(events / 2) + 1;
  const pauseAt = int(raw, "pauseAtEvent", middle, { min: 1, max: events });
  if (typeof pauseAt === "object") return pauseAt;
  if ((events - 1) * intervalMs > PROBE_LIMITS.cadenceMs.max) {
    return fail(
      `${PROBE_FIELD}.intervalMs`,
      `"${PROBE_FIELD}.events" × "${PROBE_FIELD}.intervalMs" must be at most ${PROBE_LIMITS.cadenceMs.max} ms`,
    );
  }
  return {
    ok: true,
    params: { events, intervalMs, payloadBytes, pauseMs, pauseAtEvent: pauseMs > 0 ? pauseAt : 0 },
  };
}

function fail(field: string, message: string): ProbeParamsResult {
  return { ok: false, field, message };
}

function int(
  raw: Readonly<Record<string, unknown>>,
  key: string,
  fallback: number,
  range: { readonly min: number; readonly max: number },
): number | ProbeParamsResult {
  const v = raw[key];
  if (v === undefined) return fallback;
  if (typeof v !== "number" || !Number.isInteger(v) || v < range.min || v > range.max) {
    const field = `${PROBE_FIELD}.${key}`;
    return fail(field, `"${field}" must be an integer between ${range.min} and ${range.max}`);
  }
  return v;
}
