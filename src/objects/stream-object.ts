import { DurableObject } from "cloudflare:workers";
import { buildDataPoint } from "../analytics/data-point.ts";
import { StreamMetrics } from "../analytics/stream-metrics.ts";
import { exchangeContext } from "../bindings.ts";
import { configFor } from "../config.ts";
import type { Env } from "../env.ts";
import { errorResponse, GatewayError } from "../errors.ts";
import { UNKNOWN_WHERE } from "../exchange/plan.ts";
import type { StartSpec } from "../exchange/resumable.ts";
import { startStoredStream } from "../exchange/stored-stream.ts";
import { describeError } from "../pipeline/stream-state.ts";
import { ERROR_CODE, HEADER, SSE_RESPONSE_HEADERS, STREAM_OUTCOME } from "../protocol.ts";
import {
  type EventStore,
  type HostIndex,
  SqlEventStore,
  type StreamRecord,
  sqlBatchWriter,
  sqlHostIndex,
  utf8Length,
} from "../resumable/event-store.ts";
import { migrate } from "../resumable/schema.ts";
import { FlushClock, type StreamSession } from "../resumable/session.ts";
import { isStreamId } from "../resumable/stream-id.ts";
import { RETRY_HINT_MS, STREAM_OBJECT } from "../resumable/wire.ts";
import { withId } from "../sse/encode.ts";
import { FORMATS, isFormatName } from "../upstream/registry.ts";

/**
 * While any of its streams reads an upstream the object sets an alarm this often. An object with no
 * incoming request is evicted after some idle time (tens of seconds); an alarm counts as an event, so
 * the heartbeat keeps the object alive while it reads streams nobody is listening to.
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

/** A stream this instance is generating, and who owns it (for its slot's heartbeat). */
interface Live {
  readonly session: StreamSession;
  readonly owner: string;
}

/**
 * A stream host: the Durable Object that owns many streams (one per stream id it was given). For each
 * it issues the upstream request, reads it to the end even when every client has gone, stores the
 * events in SQLite and fans them out live; later readers replay from their cursor. One flush clock
 * writes every stream's batches in one commit, one alarm serves every stream's heartbeat and
 * retention. See docs/storage.md.
 */
export class StreamObject extends DurableObject<Env> {
  readonly #live = new Map<string, Live>();
  readonly #clock: FlushClock;
  readonly #index: HostIndex;
  /** When this instance last set the alarm for (undefined: no alarm pending as far as it knows). */
  #alarmAt: number | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#index = sqlHostIndex(ctx.storage.sql);
    this.#clock = new FlushClock(sqlBatchWriter(ctx.storage));
    ctx.blockConcurrencyWhile(async () => {
      migrate(ctx.storage.sql);
      this.#alarmAt = (await ctx.storage.getAlarm()) ?? undefined;
    });
  }

  override async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const owner = request.headers.get(STREAM_OBJECT.ownerHeader) ?? "";
    const id = request.headers.get(STREAM_OBJECT.streamHeader) ?? this.#onlyStream();
    try {
      switch (url.pathname) {
        case STREAM_OBJECT.start:
          return await this.#start((await request.json()) as StartSpec, owner);
        case STREAM_OBJECT.read:
          return this.#read(id, Number(url.searchParams.get("after") ?? "0"), owner);
        case STREAM_OBJECT.cancel:
          return this.#cancel(id, owner);
        case STREAM_OBJECT.status:
          return this.#status(id, owner);
        default:
          throw new GatewayError(404, ERROR_CODE.notFound, "unknown stream operation");
      }
    } catch (err) {
      return errorResponse(err, "openai");
    }
  }

  /**
   * A worker deployed before hosts names no stream (its object held one): during a rollout, when worker
   * and object run different versions, such a call means the object's one stream, if it holds exactly one.
   */
  #onlyStream(): string {
    const ids = this.#index.all(2);
    return ids.length === 1 ? (ids[0] ?? "") : "";
  }

  #store(id: string): EventStore {
    return new SqlEventStore(this.ctx.storage, id);
  }

  async #start(spec: StartSpec, owner: string): Promise<Response> {
    const id = spec.streamId;
    if (!isStreamId(id) || this.#live.has(id)) {
      throw new GatewayError(400, ERROR_CODE.invalidRequest, "invalid stream start");
    }
    // Nothing is stored before the answer's first bytes (the session writes the record after them), so a
    // start that fails leaves nothing behind to end.
    const started = await startStoredStream(spec, owner, {
      ctx: exchangeContext(this.env),
      store: this.#store(id),
      clock: this.#clock,
      onFinished: () => this.#finished(id, owner),
    });
    const { session } = started;
    // A stream that already ended (onFinished ran) is not live any more.
    if (session?.live === true) {
      this.#live.set(id, { session, owner });
      await this.#alarmBy(Date.now() + HEARTBEAT_MS);
    }
    return started.response;
  }

  /** After a stream's end: it leaves memory (readers replay it from storage), retention by alarm, its slot freed. */
  #finished(id: string, owner: string): void {
    this.#live.delete(id);
    const ttl = configFor(this.env).streamTtlSeconds * 1000;
    this.#alarmBy(Date.now() + ttl).catch(() => {});
    // The stream no longer counts against its owner's open streams, even when none of it could be stored.
    void exchangeContext(this.env).slots.release(owner, id);
  }

  /** Makes sure the alarm fires by `at` (one alarm serves every stream: it only ever moves earlier here). */
  async #alarmBy(at: number): Promise<void> {
    if (this.#alarmAt !== undefined && this.#alarmAt <= at) return;
    this.#alarmAt = at;
    try {
      await this.ctx.storage.setAlarm(at);
    } catch (err) {
      // Not set after all: the next caller must try again rather than trust it.
      if (this.#alarmAt === at) this.#alarmAt = undefined;
      throw err;
    }
  }

  /** The stream's record, marking it `lost` first if this instance restarted while it was live. */
  #recordFor(id: string, owner: string): { record: StreamRecord; store: EventStore } {
    // A live stream's record may still wait for its first bytes to leave, and an ended one for the write
    // its end shares: asked about, both are written now.
    this.#clock.settleEnding();
    this.#live.get(id)?.session.storeRecord();
    const store = this.#store(id);
    let record = store.record();
    // The one place that decides who may see a stream: the principal that created it (or a valid resume
    // token for it). A mismatch answers 404, never "forbidden", so there is no existence oracle.
    if (record === undefined || record.owner !== owner) throw notFound();
    if (record.state === "streaming" && !this.#live.has(id)) {
      this.#markLost(record, store);
      record = store.record() ?? record;
    }
    return { record, store };
  }

  /**
   * This instance does not hold the stream although it was live: the object was evicted or restarted
   * mid-stream (which ends every stream it held). What was stored stays; an explicit `lost` error
   * event follows it.
   */
  #markLost(record: StreamRecord, store: EventStore): void {
    if (!isFormatName(record.format)) return;
    const lost = {
      code: ERROR_CODE.streamLost,
      message: "the gateway lost this stream mid-answer (it restarted); the answer is incomplete",
    };
    const events = FORMATS[record.format]
      .errorEvents(lost)
      .map((ev, i) => withId(ev, String(record.eventCount + 1 + i)));
    store.appendBatch(record.eventCount + 1, events, utf8Length(events));
    const now = Date.now();
    store.finish(STREAM_OUTCOME.lost, describeError(lost), now);
    this.#finished(record.streamId, record.owner);
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
        { ...meta, ...UNKNOWN_WHERE, principal: record.owner, streamId: record.streamId },
        metrics.snapshot(),
      ),
    );
  }

  #read(id: string, after: number, owner: string): Response {
    const { record, store } = this.#recordFor(id, owner);
    const session = this.#live.get(id)?.session;
    const count = session?.count ?? record.eventCount;
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
    if (session !== undefined) {
      session.onResume();
      return new Response(session.reader(after, prefix), { headers });
    }
    const encoder = new TextEncoder();
    const events = store.readAfter(after);
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(encoder.encode(prefix));
        for (const e of events) controller.enqueue(encoder.encode(e));
        controller.close();
      },
    });
    return new Response(body, { headers });
  }

  #cancel(id: string, owner: string): Response {
    const { record, store } = this.#recordFor(id, owner);
    const session = this.#live.get(id)?.session;
    if (session?.live) {
      session.end(STREAM_OUTCOME.cancelled, {
        code: ERROR_CODE.streamCancelled,
        message: "the stream was cancelled at the client's request",
      });
      // Stored now rather than with the next turn's ends: the answer tells the state it left.
      this.#clock.settleEnding();
    }
    return json({ id: record.streamId, state: store.record()?.state ?? record.state });
  }

  #status(id: string, owner: string): Response {
    const { record: r } = this.#recordFor(id, owner);
    const session = this.#live.get(id)?.session;
    return json({
      id: r.streamId,
      state: r.state,
      events: session?.live ? session.count : r.eventCount,
      readers: session?.live ? session.readers : 0,
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

  /**
   * One alarm for every stream the object holds: heartbeats for the live ones (their slots renewed),
   * `lost` for any stored as live that this instance does not hold (it restarted), deletion of those
   * whose retention period is over; then it is set for whichever of those comes next. The next alarm is
   * set whatever fails on the way (one bad row, the principal objects down): the chain never breaks.
   */
  override async alarm(): Promise<void> {
    this.#alarmAt = undefined;
    const now = Date.now();
    const ttl = configFor(this.env).streamTtlSeconds * 1000;
    try {
      // An ended stream waiting for its shared write is stored first, not taken for one this instance lost.
      this.#clock.settleEnding();
      for (const id of this.#index.streaming()) {
        if (this.#live.get(id)?.session.live === true) continue;
        this.#live.delete(id);
        try {
          const store = this.#store(id);
          const record = store.record();
          if (record !== undefined) this.#markLost(record, store);
        } catch {
          // This stream's rows cannot be ended now; the next alarm tries again.
        }
      }
      for (const id of this.#index.endedBefore(now - ttl)) {
        await this.#store(id)
          .deleteAll()
          .catch(() => {});
      }
      const slots = exchangeContext(this.env).slots;
      // A principal object that does not answer costs only that renewal: the lease expires by itself.
      await Promise.allSettled([...this.#live].map(([id, live]) => slots.renew(live.owner, id)));
    } finally {
      const earliest = this.#index.earliestEnd();
      const next = Math.min(
        this.#live.size > 0 ? now + HEARTBEAT_MS : Number.POSITIVE_INFINITY,
        earliest === undefined ? Number.POSITIVE_INFINITY : earliest + ttl,
      );
      if (Number.isFinite(next)) await this.#alarmBy(Math.max(next, Date.now() + 1));
    }
  }
}
