import type { ServerTimings } from "../../src/client/index.ts";

/** POSIX shell single quotes: safe for any URL or header value, a quote included. */
function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * A `curl` command that reads the stream again from the gateway: `GET /v1/streams/{id}` (the resume
 * token, if the gateway issued one, is already in `resumeUrl`) with `Last-Event-ID`, so it picks up
 * after `lastEventId` (0: from the first event). `-N` turns off curl's buffering, so events show as
 * they come.
 */
export function curlLine(resumeUrl: string, lastEventId: number): string {
  return `curl -N ${shellQuote(resumeUrl)} -H ${shellQuote(`Last-Event-ID: ${lastEventId}`)}`;
}

/** Milliseconds for a stats cell (a tenth under 10 ms, where it still says something); "–" if not measured. */
export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "–";
  return `${Math.abs(ms) < 10 ? ms.toFixed(1) : Math.round(ms)} ms`;
}

/** The gateway's side of the stats, cell by cell. */
export interface ServerCells {
  readonly gatewayTtft: string;
  readonly upstreamTtft: string;
  readonly overhead: string;
  readonly holdback: string;
}

/** The gateway's timings as stats cells; all "–" when the stream sent none (it did not finish here). */
export function serverCells(timings: ServerTimings | null): ServerCells {
  return {
    gatewayTtft: formatMs(timings?.gatewayTtftMs),
    upstreamTtft: formatMs(timings?.upstreamTtftMs),
    overhead: formatMs(timings?.overheadMs),
    holdback: formatMs(timings?.holdbackMs),
  };
}
