/**
 * The measuring client: sends one streaming request and records when each SSE event arrives.
 * It uses undici's `request` (the engine under Node's `fetch`) without the WHATWG stream layer,
 * so the client spends as little CPU per event as possible on a machine it shares with the mock
 * and workerd; whatever it does spend is the same for every target and cancels out.
 */
import { Agent, request } from "undici";
import { HEADER } from "../src/protocol.ts";
import { decodeStamp, nowMs, STAMP_PATTERN } from "./plan.ts";
import type { RouteRequest } from "./routes.ts";

/** What the client saw of one stream. Times are epoch ms (see `nowMs`). */
export interface StreamTrace {
  readonly status: number;
  /** Transport or HTTP failure; undefined when the response streamed to its end. */
  readonly error: string | undefined;
  readonly startMs: number;
  /** First body bytes; undefined if none came. */
  readonly firstByteMs: number | undefined;
  readonly endMs: number;
  /** Arrival time of each stamped (content) event, in order. */
  readonly arrivals: readonly number[];
  /** The mock's send time of each stamped event, same index as `arrivals`. */
  readonly sent: readonly number[];
  /** The stream's end marker arrived (`data: [DONE]`, Anthropic `message_stop`). */
  readonly ended: boolean;
  /** The stream carried an in-band error event (the gateway's honest end of a failed stream). */
  readonly inBandError: boolean;
  /** The gateway's `x-stream-id` response header (resumable streams), if any. */
  readonly streamId: string | undefined;
}

/** Time to first byte of a trace, in ms; undefined when no byte came. */
export function ttftOf(t: StreamTrace): number | undefined {
  return t.firstByteMs === undefined ? undefined : t.firstByteMs - t.startMs;
}

/** Request start → first content (stamped) event, in ms; undefined when none came. */
export function firstContentOf(t: StreamTrace): number | undefined {
  const first = t.arrivals[0];
  return first === undefined ? undefined : first - t.startMs;
}

/** Largest time between two consecutive content events of a trace, in ms (0 with fewer than two). */
export function worstGapOf(t: StreamTrace): number {
  let worst = 0;
  for (let i = 1; i < t.arrivals.length; i += 1) {
    const gap = (t.arrivals[i] ?? 0) - (t.arrivals[i - 1] ?? 0);
    if (gap > worst) worst = gap;
  }
  return worst;
}

/**
 * One connection pool for the whole run: up to 1,000 connections per origin so 500 concurrent
 * streams never queue behind each other in the client. A body silent for 10 s is a stall: it
 * fails the stream instead of hanging the run.
 */
export function createAgent(): Agent {
  return new Agent({
    connections: 1000,
    pipelining: 1,
    keepAliveTimeout: 60_000,
    keepAliveMaxTimeout: 60_000,
    headersTimeout: 10_000,
    bodyTimeout: 10_000,
  });
}

const END_MARKER = /^data: \[DONE\]|"type":"message_stop"/m;
const ERROR_EVENT = /^event: error|^data: \{"error"|"type":"error"/m;
const JSON_HEADERS = { "content-type": "application/json" } as const;

/**
 * Targets that take gateway keys (see `defaultsTarget`): each request to such an origin presents the
 * next key in turn, so streams started together spread over as many principals (the open-stream
 * limit counts per principal). Registered by the target, read by every scenario alike.
 */
const CALLERS = new Map<string, { readonly keys: readonly string[]; next: number }>();

/** Requests to `origin` present `keys` in turn (`authorization: Bearer …`). */
export function presentKeys(origin: string, keys: readonly string[]): void {
  CALLERS.set(origin, { keys, next: 0 });
}

function headersFor(origin: string, json: boolean): Record<string, string> {
  const caller = CALLERS.get(origin);
  const key = caller?.keys[caller.next++ % caller.keys.length];
  return { ...(json ? JSON_HEADERS : {}), ...(key === undefined ? {} : { authorization: `Bearer ${key}` }) };
}

/** Streams one request to its end and traces every event's arrival. Never throws. */
export async function traceStream(agent: Agent, origin: string, req: RouteRequest): Promise<StreamTrace> {
  const arrivals: number[] = [];
  const sent: number[] = [];
  let status = 0;
  let firstByteMs: number | undefined;
  let ended = false;
  let inBandError = false;
  let error: string | undefined;
  let streamId: string | undefined;
  const startMs = nowMs();
  try {
    const res = await request(origin + req.path, {
      method: req.method ?? "POST",
      headers: headersFor(origin, req.body !== undefined),
      ...(req.body === undefined ? {} : { body: req.body }),
      dispatcher: agent,
    });
    status = res.statusCode;
    const id = res.headers[HEADER.streamId];
    streamId = typeof id === "string" ? id : undefined;
    if (status !== 200) error = `HTTP ${status}`;
    // Events are ASCII here (stamps, JSON punctuation, filler), so latin1 decoding is exact and
    // cannot split a character across chunks.
    let carry = "";
    for await (const chunk of res.body) {
      const at = nowMs();
      firstByteMs ??= at;
      carry += (chunk as Buffer).toString("latin1");
      let cut = carry.indexOf("\n\n");
      if (cut === -1) continue;
      let from = 0;
      while (cut !== -1) {
        const block = carry.slice(from, cut);
        const stamp = STAMP_PATTERN.exec(block);
        if (stamp?.[1] !== undefined) {
          arrivals.push(at);
          sent.push(decodeStamp(stamp[1]));
        } else if (END_MARKER.test(block)) {
          ended = true;
        } else if (ERROR_EVENT.test(block)) {
          inBandError = true;
        }
        from = cut + 2;
        cut = carry.indexOf("\n\n", from);
      }
      carry = carry.slice(from);
    }
  } catch (err) {
    error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  }
  if (error === undefined && !ended) error = inBandError ? "in-band error event" : "no end marker";
  return {
    status,
    error,
    startMs,
    firstByteMs,
    endMs: nowMs(),
    arrivals,
    sent,
    ended,
    inBandError,
    streamId,
  };
}
