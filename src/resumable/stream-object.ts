import { DurableObject } from "cloudflare:workers";
import { buildDataPoint } from "../analytics/data-point.ts";
import { timingComment } from "../analytics/server-timing.ts";
import { gatewaySink } from "../analytics/stream-analytics.ts";
import { StreamMetrics } from "../analytics/stream-metrics.ts";
import { configFor } from "../config.ts";
import type { Env } from "../env.ts";
import { errorResponse, GatewayError } from "../errors.ts";
import { buildItems } from "../pipeline/build.ts";
import type { StreamItem } from "../pipeline/item.ts";
import { describeError, type StreamState } from "../pipeline/stream-state.ts";
import { ERROR_CODE, HEADER, SSE_RESPONSE_HEADERS, STREAM_OUTCOME } from "../protocol.ts";
import {
  guardSteps,
  jsonResponse,
  openPlan,
  type StreamPlan,
  trackStream,
  translateStage,
} from "../routes/plan.ts";
import { SseDecoder } from "../sse/decoder.ts";
import { withId } from "../sse/encode.ts";
import { FORMATS, isFormatName } from "../upstream/formats.ts";
import { type EventStore, SqlEventStore, type StreamRecord } from "./event-store.ts";
import { migrate } from "./schema.ts";
import { StreamSession } from "./session.ts";
import { releaseStreamSlot, renewStreamSlot } from "./stream-slots.ts";
import { RETRY_HINT_MS, STREAM_OBJECT } from "./wire.ts";

/**
 * While the upstream is in flight the object sets an alarm this often. An object with no incoming
 * request is evicted after some idle time (tens of seconds); an alarm counts as an event, so the
 * heartbeat keeps the object alive while it reads a stream nobody is listening to.
 */
export const HEARTBEAT_MS = 10_000;

/** What the worker sends to start a stream. */
interface StartSpec {
  readonly streamId: string;
  readonly plan: StreamPlan;
  readonly clientHeaders: Record<string, string>;
}

function json(body: unknown, status = 200): Response {
  return Response.json(body, { status });
}

function notFound(): GatewayError {
  return new GatewayError(
    404,
    ERROR_CODE.streamNotFound,
    "no stream with this id (unknown, expired or not yours)",
  );
}

/**
 * The Durable Object that owns one stream (one object per stream id): it issues the upstream
 * request, reads it to the end even when every client has gone, stores the events in SQLite and
 * fans them out live; later readers replay from their cursor. See docs/storage.md.
 */
export class StreamObject extends DurableObject<Env> {
  readonly #store: EventStore;
  #session: StreamSession | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#store = new SqlEventStore(ctx.storage);
    ctx.blockConcurrencyWhile(async () => migrate(ctx.storage.sql));
  }

  override async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const owner = request.headers.get(STREAM_OBJECT.ownerHeader) ?? "";
    try {
      switch (url.pathname) {
        case STREAM_OBJECT.start:
          return await this.#start((await request.json()) as StartSpec, owner);
        case STREAM_OBJECT.read:
          return this.#read(Number(url.searchParams.get("after") ?? "0"), owner);
        case STREAM_OBJECT.cancel:
          return this.#cancel(owner);
        case STREAM_OBJECT.status:
          return this.#status(owner);
        default:
          throw new GatewayError(404, ERROR_CODE.notFound, "unknown stream operation");
      }
    } catch (err) {
      return errorResponse(err, "openai");
    }
  }

  async #start(spec: StartSpec, owner: string): Promise<Response> {
    const { plan } = spec;
    if (!isFormatName(plan.format) || this.#store.record() !== undefined) {
      throw new GatewayError(400, ERROR_CODE.invalidRequest, "invalid stream start");
    }
    const format = FORMATS[plan.format];
    const config = configFor(this.env);
    let x: Awaited<ReturnType<typeof openPlan>>;
    try {
      // The object writes the stream's one data point, so it is written even when no client is left.
      x = await openPlan(
        plan,
        new Request(STREAM_OBJECT.origin, { headers: spec.clientHeaders }),
        config,
        (state) => {
          if (plan.stream) trackStream(plan, state, this.env);
        },
      );
    } catch (err) {
      // Nothing was streamed: the client gets the HTTP error in its own format, and nothing is stored.
      return errorResponse(err, format.errorShape);
    }
    if (!plan.stream || !x.isStream || x.upstream.body === null) {
      try {
        return await jsonResponse(plan, x, config);
      } catch (err) {
        return errorResponse(err, format.errorShape);
      }
    }
    const now = Date.now();
    this.#store.create({
      streamId: spec.streamId,
      state: "streaming",
      detail: null,
      model: plan.model,
      provider: plan.provider,
      route: plan.route,
      format: plan.format,
      owner,
      createdAt: now,
      finishedAt: null,
      eventCount: 0,
      byteCount: 0,
    });
    const state = x.state;
    const session = new StreamSession(this.#store, format, config.streamLimits, Date.now, (outcome) => {
      state.finish(outcome);
      this.#finished();
    });
    // The timings travel as a final SSE comment, stored like any event so replays end the same way.
    session.onResume = () => state.metrics.resume();
    session.trailer = () => {
      if (state.outputTokens !== undefined) state.metrics.usage(state.outputTokens);
      return timingComment(state.metrics.snapshot(Date.now()));
    };
    this.#session = session;
    const items = buildItems({
      body: x.upstream.body,
      format,
      state: x.state,
      abortUpstream: (reason) => x.abort.abort(reason),
      translate: translateStage(plan),
      steps: guardSteps(config, plan.format, x.state, (reason) => x.abort.abort(reason)),
    });
    const body = session.reader(0);
    const reader = items.getReader();
    // Ending early (cancel, limits) stops the upstream at once, not at its next token.
    session.abortUpstream = (reason) => {
      x.abort.abort(reason);
      reader.cancel(reason).catch(() => {});
    };
    void this.#pump(reader, session, x.state);
    await this.ctx.storage.setAlarm(now + HEARTBEAT_MS);
    for (const [k, v] of Object.entries(SSE_RESPONSE_HEADERS)) x.headers.set(k, v);
    x.headers.set(HEADER.streamId, spec.streamId);
    return new Response(body, { status: 200, headers: x.headers });
  }

  /** Reads the pipeline to its end whether or not anyone is listening. */
  async #pump(
    reader: ReadableStreamDefaultReader<StreamItem>,
    session: StreamSession,
    state: StreamState,
  ): Promise<void> {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        const before = session.bytes;
        session.append(value.ev);
        state.metrics.bytesSent(session.bytes - before);
        if (value.info.parts.length > 0) state.metrics.firstClientContent(Date.now());
        if (!session.live) return;
      }
      session.end(state.upstreamOutcome(), undefined, state.endDetail());
    } catch {
      session.end(STREAM_OUTCOME.interrupted, {
        code: ERROR_CODE.internal,
        message: "the gateway failed while streaming this answer",
      });
    }
  }

  /** After a stream's end: retention by alarm, and its open-stream slot freed. */
  #finished(): void {
    const ttl = configFor(this.env).streamTtlSeconds * 1000;
    this.ctx.storage.setAlarm(Date.now() + ttl).catch(() => {});
    let record: StreamRecord | undefined;
    try {
      record = this.#store.record();
    } catch {
      // Storage is failing (the session has ended the stream for it); the slot's lease expires by itself.
      return;
    }
    // The stream no longer counts against its owner's open streams.
    if (record !== undefined) void releaseStreamSlot(this.env, record.owner, record.streamId);
  }

  /** The stream's record, marking it `lost` first if this instance restarted while it was live. */
  #recordFor(owner: string): StreamRecord {
    let record = this.#store.record();
    // The one place that decides who may see a stream: the principal that created it (or a valid resume
    // token for it). A mismatch answers 404, never "forbidden", so there is no existence oracle.
    if (record === undefined || record.owner !== owner) throw notFound();
    if (record.state === "streaming" && this.#session === undefined) {
      this.#markLost(record);
      record = this.#store.record() ?? record;
    }
    return record;
  }

  /**
   * This instance does not hold the stream although it was live: the object was evicted or restarted
   * mid-stream. What was stored stays; an explicit `lost` error event follows it.
   */
  #markLost(record: StreamRecord): void {
    if (!isFormatName(record.format)) return;
    const decoder = new SseDecoder();
    const lost = {
      code: ERROR_CODE.streamLost,
      message: "the gateway lost this stream mid-answer (it restarted); the answer is incomplete",
    };
    const frames = FORMATS[record.format].errorFrames(lost);
    const events = [...decoder.push(frames), ...decoder.end()].map((ev, i) =>
      withId(ev, String(record.eventCount + 1 + i)),
    );
    this.#store.appendBatch(record.eventCount + 1, events, events.join("").length);
    const now = Date.now();
    this.#store.finish(STREAM_OUTCOME.lost, describeError(lost), now);
    this.#finished();
    // The instance that measured this stream is gone: its one data point is written now, from what was stored.
    const metrics = new StreamMetrics();
    metrics.requestReceived(record.createdAt);
    metrics.bytesSent(record.byteCount);
    metrics.end(now, STREAM_OUTCOME.lost);
    const meta = {
      route: `${record.route}/${record.format}`,
      provider: record.provider,
      model: record.model,
      guardrail: "none" as const,
    };
    gatewaySink(this.env).write(
      buildDataPoint(
        { ...meta, colo: "unknown", country: "unknown", principal: record.owner, streamId: record.streamId },
        metrics.snapshot(),
      ),
    );
  }

  #read(after: number, owner: string): Response {
    const record = this.#recordFor(owner);
    const count = this.#session?.count ?? record.eventCount;
    if (!Number.isSafeInteger(after) || after < 0)
      throw new GatewayError(400, ERROR_CODE.invalidCursor, "invalid cursor");
    if (after > count) {
      throw new GatewayError(
        400,
        ERROR_CODE.invalidCursor,
        `Last-Event-ID ${after} is beyond the last event (${count})`,
      );
    }
    const prefix = `retry: ${RETRY_HINT_MS}\n\n`;
    const headers = { ...SSE_RESPONSE_HEADERS, [HEADER.streamId]: record.streamId };
    if (this.#session !== undefined) {
      this.#session.onResume();
      return new Response(this.#session.reader(after, prefix), { headers });
    }
    const encoder = new TextEncoder();
    const events = this.#store.readAfter(after);
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(encoder.encode(prefix));
        for (const e of events) controller.enqueue(encoder.encode(e));
        controller.close();
      },
    });
    return new Response(body, { headers });
  }

  #cancel(owner: string): Response {
    const record = this.#recordFor(owner);
    if (this.#session?.live) {
      this.#session.end(STREAM_OUTCOME.cancelled, {
        code: ERROR_CODE.streamCancelled,
        message: "the stream was cancelled at the client's request",
      });
    }
    return json({ id: record.streamId, state: this.#store.record()?.state ?? record.state });
  }

  #status(owner: string): Response {
    const r = this.#recordFor(owner);
    const live = this.#session?.live === true;
    return json({
      id: r.streamId,
      state: r.state,
      events: live ? (this.#session?.count ?? r.eventCount) : r.eventCount,
      model: r.model,
      provider: r.provider,
      route: r.route,
      createdAt: new Date(r.createdAt).toISOString(),
      finishedAt: r.finishedAt === null ? null : new Date(r.finishedAt).toISOString(),
      detail: r.detail,
    });
  }

  /** Heartbeat while live; `lost` detection after a restart; deletion once the retention period is over. */
  override async alarm(): Promise<void> {
    const record = this.#store.record();
    if (record === undefined) return;
    const now = Date.now();
    if (record.state === "streaming") {
      if (this.#session?.live) {
        await this.ctx.storage.setAlarm(now + HEARTBEAT_MS);
        await renewStreamSlot(this.env, record.owner, record.streamId);
      } else this.#markLost(record);
      return;
    }
    const expires = (record.finishedAt ?? now) + configFor(this.env).streamTtlSeconds * 1000;
    if (now >= expires) {
      this.#session = undefined;
      await this.#store.deleteAll();
      // deleteAll drops the tables too: recreate them empty so the id now answers 404, not a SQL error.
      migrate(this.ctx.storage.sql);
    } else await this.ctx.storage.setAlarm(expires);
  }
}
