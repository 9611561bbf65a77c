/**
 * Issue 19's rows: the same paced stream over the gateway's WebSocket (`/v1/ws`, `chat.create`) and
 * over SSE (`POST /v1/chat/completions`), on one resumable gateway, alternating stream by stream.
 */
import WebSocket from "ws";
import { firstContentOf, type StreamTrace, traceStream } from "../client.ts";
import { decodeStamp, nowMs, planModel, STAMP_PATTERN, type StreamPlan } from "../plan.ts";
import type { BenchContext, Row, Scenario } from "../scenario.ts";
import { type Summary, summarize } from "../stats.ts";
import { eventDelays } from "./series.ts";

/** How the WebSocket scenario is run. */
export interface WebSocketOptions {
  readonly id: string;
  readonly title: string;
  /** The (resumable) gateway target whose column the rows fill. */
  readonly column: string;
  readonly plan: StreamPlan;
  /** Streams per transport. */
  readonly streams: number;
}

function chatBody(plan: StreamPlan): Record<string, unknown> {
  return { model: `openai/${planModel(plan)}`, stream: true, messages: [{ role: "user", content: "bench" }] };
}

/** Opens one socket, kept for every stream: the rows measure streams on a warm socket, as a page has. */
function openSocket(origin: string): Promise<WebSocket> {
  const url = new URL("/v1/ws", origin);
  url.protocol = "ws:";
  const socket = new WebSocket(url);
  return new Promise((resolve, reject) => {
    socket.once("open", () => resolve(socket));
    socket.once("error", reject);
  });
}

/** One stream over the socket: `chat.create` sent → each stamped `event` message's arrival. */
function traceSocket(socket: WebSocket, plan: StreamPlan, ref: string): Promise<StreamTrace> {
  const arrivals: number[] = [];
  const sent: number[] = [];
  let firstByteMs: number | undefined;
  const startMs = nowMs();
  return new Promise((resolve) => {
    const finish = (error: string | undefined, ended: boolean, streamId: string | undefined) => {
      socket.off("message", onMessage);
      resolve({
        status: 101,
        error,
        startMs,
        firstByteMs,
        endMs: nowMs(),
        arrivals,
        sent,
        ended,
        inBandError: false,
        streamId,
      });
    };
    let stream: string | undefined;
    const onMessage = (data: WebSocket.RawData) => {
      const at = nowMs();
      const text = data.toString();
      const m = JSON.parse(text) as { type: string; ref?: string; stream?: string };
      if (m.type === "stream.started" && m.ref === ref) stream = m.stream;
      if (stream === undefined || m.stream !== stream) {
        if (m.type === "error" && m.ref === ref) finish("refused", false, undefined);
        return;
      }
      if (m.type === "event") {
        firstByteMs ??= at;
        const stamp = STAMP_PATTERN.exec(text);
        if (stamp?.[1] !== undefined) {
          arrivals.push(at);
          sent.push(decodeStamp(stamp[1]));
        }
      } else if (m.type === "stream.done") finish(undefined, true, stream);
      else if (m.type === "stream.error") finish("stream.error", false, stream);
    };
    socket.on("message", onMessage);
    socket.send(JSON.stringify({ type: "chat.create", ref, body: chatBody(plan) }));
  });
}

function rows(metric: string, column: string, by: ReadonlyMap<string, Summary>, note: string): Row[] {
  return (["p50", "p99"] as const).flatMap((q) =>
    [...by].map(([transport, s]) => ({
      metric: `${metric} ${q} (${transport})`,
      unit: "ms" as const,
      values: { [column]: s[q] },
      note,
    })),
  );
}

/** Per-event delay and time to first content, WebSocket against SSE on the same gateway and run. */
export function webSocketScenario(opts: WebSocketOptions): Scenario {
  return {
    id: opts.id,
    title: opts.title,
    async run(ctx: BenchContext) {
      const target = ctx.targets.get(opts.column);
      if (target === undefined) throw new Error(`no target ${opts.column}`);
      const socket = await openSocket(target.origin);
      const sse: StreamTrace[] = [];
      const ws: StreamTrace[] = [];
      try {
        for (let i = 0; i < opts.streams; i++) {
          sse.push(
            await traceStream(ctx.agent, target.origin, {
              path: "/v1/chat/completions",
              body: JSON.stringify(chatBody(opts.plan)),
            }),
          );
          ws.push(await traceSocket(socket, opts.plan, `b${i}`));
        }
      } finally {
        socket.close();
      }
      const delays = new Map([
        ["SSE", summarize(eventDelays(sse))],
        ["WebSocket", summarize(eventDelays(ws))],
      ]);
      const ttft = (traces: readonly StreamTrace[]) =>
        summarize(traces.flatMap((t) => (firstContentOf(t) === undefined ? [] : [firstContentOf(t) ?? 0])));
      const first = new Map([
        ["SSE", ttft(sse)],
        ["WebSocket", ttft(ws)],
      ]);
      return {
        rows: [
          ...rows("event delay", opts.column, delays, "arrival − mock's send stamp"),
          ...rows("first content", opts.column, first, "request (or chat.create) → first content event"),
        ],
        detail: {
          plan: opts.plan,
          streams: opts.streams,
          eventDelay: Object.fromEntries(delays),
          firstContent: Object.fromEntries(first),
          incomplete: {
            SSE: sse.filter((t) => !t.ended).length,
            WebSocket: ws.filter((t) => !t.ended).length,
          },
        },
      };
    },
  };
}
