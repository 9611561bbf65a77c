import { TIMING_COMMENT_NAME } from "./protocol.ts";
import type { ServerTimings } from "./types.ts";

/** The numeric fields of the gateway's timings comment; anything else in it is not read. */
const NUMBER_FIELDS = [
  "gatewayTtftMs",
  "upstreamTtftMs",
  "overheadMs",
  "preUpstreamMs",
  "upstreamConnectMs",
  "holdbackMs",
  "durationMs",
  "outputTokens",
  "tokensPerSecond",
  "gapP50Ms",
  "gapMaxMs",
  "resumes",
] as const;

type NumberField = (typeof NUMBER_FIELDS)[number];

const PREFIX = `${TIMING_COMMENT_NAME} `;

/**
 * Reads the text of one SSE comment line as the gateway's timings (`timings {...}`), or null when it
 * is any other comment (a keep-alive) or not valid JSON. The comment crosses the network like the
 * model's text, so every field is checked: one of the wrong type is left out, never passed on.
 */
export function parseTimingComment(comment: string): ServerTimings | null {
  if (!comment.startsWith(PREFIX)) return null;
  let value: unknown;
  try {
    value = JSON.parse(comment.slice(PREFIX.length));
  } catch {
    return null;
  }
  return readTimings(value);
}

/** Checks a timings object field by field (the WebSocket's `stream.done` carries it parsed). */
export function readTimings(value: unknown): ServerTimings | null {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return null;
  const record = value as Readonly<Record<string, unknown>>;
  const timings: { -readonly [K in NumberField]?: number } & { tokensSource?: "exact" | "estimated" } = {};
  for (const field of NUMBER_FIELDS) {
    const n = record[field];
    if (typeof n === "number" && Number.isFinite(n)) timings[field] = n;
  }
  const source = record.tokensSource;
  if (source === "exact" || source === "estimated") timings.tokensSource = source;
  return timings;
}
