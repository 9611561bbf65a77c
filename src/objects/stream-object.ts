import { DurableObject } from "cloudflare:workers";
import { buildDataPoint } from "../analytics/data-point.ts";
import { StreamMetrics } from "../analytics/stream-metrics.ts";
import { exchangeContext } from "../bindings.ts";
import { configFor } from "../config.ts";
import type { Env } from "../env.ts";
import { errorResponse, GatewayError } from "../errors.ts";
import type { StartSpec } from "../exchange/resumable.ts";
import { startStoredStream } from "../exchange/stored-stream.ts";
import { describeError } from "../pipeline/stream-state.ts";
import { ERROR_CODE, HEADER, SSE_RESPONSE_HEADERS, STREAM_OUTCOME } from "../protocol.ts";
import { type EventStore, SqlEventStore, type StreamRecord, utf8Length } from "../resumable/event-store.ts";
import { migrate } from "../resumable/schema.ts";
import type { StreamSession } from "../resumable/session.ts";
import { RETRY_HINT_MS, STREAM_OBJECT } from "../resumable/wire.ts";
import { withId } from "../sse/encode.ts";
import { FORMATS, isFormatName } from "../upstream/registry.ts";

/**
 * While the upstream is in flight the object sets an alarm this often. An object with no incoming
 * request is evicted after some idle time (tens of seconds); an alarm counts as an event, so the
 * heartbeat keeps the object alive while it reads a stream nobody is listening to.
 */
export const HEARTBEAT_MS = 10_000;

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
    const started = await startStoredStream(spec, owner, {
      ctx: exchangeContext(this.env),
      store: this.#store,
      onFinished: () => this.#finished(),
    });
    if (started.session !== undefined) {
      this.#session = started.session;
      await this.ctx.storage.setAlarm(Date.now() + HEARTBEAT_MS);
    }
    return started.response;
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
    if (record !== undefined) void exchangeContext(this.env).slots.release(record.owner, record.streamId);
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
    const lost = {
      code: ERROR_CODE.streamLost,
      message: "the gateway lost this stream mid-answer (it restarted); the answer is incomplete",
    };
    const events = FORMATS[record.format]
      .errorEvents(lost)
      .map((ev, i) => withId(ev, String(record.eventCount + 1 + i)));
    this.#store.appendBatch(record.eventCount + 1, events, utf8Length(events));
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
    exchangeContext(this.env).sink.write(
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
      attempts: r.attempts,
      hedged: r.hedged,
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
        await exchangeContext(this.env).slots.renew(record.owner, record.streamId);
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
