/**
 * The bench's upstream, run as its own process (forked by bench/mock-process.ts) so that writing
 * 50,000 events per second never shares an event loop with the client measuring them. Per request
 * it keeps nothing but a timer: no recording, no per-event allocation beyond the frame itself.
 * Sends `{type: "ready", port}` to its parent once listening, and exits when the parent goes away.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { encodeStamp, nowMs, padOf, parsePlan, type StreamPlan } from "./plan.ts";

/** One provider wire format: how a content event and the stream's end look. */
interface MockFormat {
  /** A complete SSE frame carrying `text` as the event's text delta. */
  content(text: string): string;
  /** Frames before the first content event (may be empty). */
  readonly preamble: string;
  /** Frames after the last content event: finish reason and end marker. */
  readonly end: string;
}

/** OpenAI Chat Completions chunks, ending with a finish chunk and `data: [DONE]`. */
const OPENAI_CHAT: MockFormat = {
  preamble: "",
  content: (text) =>
    `data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,"model":"bench","choices":[{"index":0,"delta":{"content":"${text}"},"finish_reason":null}]}\n\n`,
  end:
    'data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,"model":"bench","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n' +
    "data: [DONE]\n\n",
};

/**
 * Anthropic Messages events. Served at `/v1/messages` for the translated-stream row (issue 3):
 * its preamble goes out together with the first content event, so the first event is still
 * sent immediately.
 */
const ANTHROPIC_MESSAGES: MockFormat = {
  preamble:
    'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_bench","type":"message","role":"assistant","model":"bench","content":[],"stop_reason":null,"usage":{"input_tokens":1,"output_tokens":0}}}\n\n' +
    'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n\n',
  content: (text) =>
    `event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"${text}"}}\n\n`,
  end:
    'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n' +
    'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":1}}\n\n' +
    'event: message_stop\ndata: {"type":"message_stop"}\n\n',
};

/** The format a path asks for: each provider's own endpoint suffix. */
function formatFor(url: string): MockFormat {
  return url.split("?")[0]?.endsWith("/v1/messages") ? ANTHROPIC_MESSAGES : OPENAI_CHAT;
}

/** Writes the plan's events, stamping each with the moment it is handed to the socket. */
function serve(res: ServerResponse, plan: StreamPlan, format: MockFormat): void {
  const pad = padOf(plan);
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  let sent = 0;
  let timer: NodeJS.Timeout | undefined;
  let gone = false;
  res.on("close", () => {
    gone = true;
    clearTimeout(timer);
  });
  // The first event rides with the response headers (no flushHeaders): TTFT measures the targets,
  // not an extra packet from the mock.
  res.write(format.preamble + format.content(encodeStamp(nowMs()) + pad));
  sent = 1;

  const finish = (): void => {
    if (!gone) res.end(format.end);
  };

  if (plan.intervalMs === 0) {
    // As fast as the socket drains: honour backpressure so the mock never buffers a whole stream.
    const burst = (): void => {
      while (sent < plan.events && !gone) {
        sent += 1;
        if (!res.write(format.content(encodeStamp(nowMs()) + pad))) {
          res.once("drain", burst);
          return;
        }
      }
      finish();
    };
    burst();
    return;
  }

  // Each event is due at start + i × interval, so timer lateness never accumulates into drift.
  const start = nowMs();
  const tick = (): void => {
    if (gone) return;
    res.write(format.content(encodeStamp(nowMs()) + pad));
    sent += 1;
    schedule();
  };
  const schedule = (): void => {
    if (sent >= plan.events) {
      finish();
      return;
    }
    timer = setTimeout(tick, Math.max(0, start + sent * plan.intervalMs - nowMs()));
  };
  schedule();
}

/**
 * Failing upstreams for the resilience rows, chosen by the first path segment (each is a provider
 * of its own in bench/targets.ts): `/down/` always answers 503, `/flaky/` answers 503 to every
 * other request (sequential streams: each gateway stream sees one 503, then an answer), `/slow/`
 * holds its response for SLOW_FIRST_TOKEN_MS, `/dropper/` sends one event and drops the connection
 * unless the request is a continuation (a prefill: `continue_final_message`), which streams the
 * plan. Anything else streams at once.
 */
const SLOW_FIRST_TOKEN_MS = 3000;
let flakyRequests = 0;

function unavailable(res: ServerResponse): void {
  res.writeHead(503, { "content-type": "application/json" });
  res.end('{"error":{"message":"bench mock: unavailable","type":"server_error"}}');
}

function respond(req: IncomingMessage, res: ServerResponse, plan: StreamPlan, body: string): void {
  const url = req.url ?? "";
  const format = formatFor(url);
  const kind = url.split("/")[1];
  if (kind === "down") {
    unavailable(res);
    return;
  }
  if (kind === "flaky") {
    flakyRequests += 1;
    if (flakyRequests % 2 === 1) {
      unavailable(res);
      return;
    }
  }
  if (kind === "dropper" && !body.includes('"continue_final_message":true')) {
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    res.write(format.preamble + format.content(encodeStamp(nowMs()) + padOf(plan)), () =>
      res.socket?.destroy(),
    );
    return;
  }
  if (kind === "slow") {
    const timer = setTimeout(() => serve(res, plan, format), SLOW_FIRST_TOKEN_MS);
    // A hedged gateway aborts the loser: its connection closes, and nothing is sent on it.
    res.on("close", () => clearTimeout(timer));
    return;
  }
  serve(res, plan, format);
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  let body = "";
  req.setEncoding("utf8");
  req.on("data", (chunk: string) => {
    body += chunk;
  });
  req.on("end", () => {
    const plan = parsePlan(`${req.url ?? ""}\n${body}`);
    if (req.method !== "POST" || plan === undefined || plan.events < 1) {
      res.writeHead(400, { "content-type": "application/json" });
      res.end('{"error":{"message":"bench mock: POST a model named bench-n<events>-i<ms>-p<chars>"}}');
      return;
    }
    respond(req, res, plan, body);
  });
}

// keepAliveTimeout well above a scenario's pauses, so workerd's pooled upstream connections stay
// open between sequential requests just as the client's do.
const server = createServer({ keepAliveTimeout: 60_000, noDelay: true }, handle);
// 500 concurrent streams open 500 connections at once; the default backlog (511) is too close.
server.listen({ port: 0, host: "127.0.0.1", backlog: 4096 }, () => {
  const { port } = server.address() as AddressInfo;
  process.send?.({ type: "ready", port });
});
process.on("disconnect", () => process.exit(0));
