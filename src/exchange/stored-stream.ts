import { timingComment } from "../analytics/server-timing.ts";
import { errorResponse, GatewayError } from "../errors.ts";
import { driveItems } from "../pipeline/build.ts";
import type { StreamState } from "../pipeline/stream-state.ts";
import type { DrivenEvents } from "../pipeline/upstream-events.ts";
import { ERROR_CODE, HEADER, SSE_RESPONSE_HEADERS, STREAM_OUTCOME } from "../protocol.ts";
import type { EventStore } from "../resumable/event-store.ts";
import { type FlushClock, StreamSession } from "../resumable/session.ts";
import { FORMATS, isFormatName } from "../upstream/registry.ts";
import { trackStream } from "./analytics.ts";
import type { AttemptCall } from "./attempt.ts";
import { type Answer, openAnswer } from "./attempts.ts";
import type { ExchangeContext } from "./context.ts";
import { answerHeaders, answerUpstream } from "./direct.ts";
import { jsonResponse } from "./json-answer.ts";
import { type StartSpec, whereSent } from "./resumable.ts";
import { guardSteps, translateStage } from "./stages.ts";

/** What the stream object hands the exchange it runs. */
export interface StoredStreamDeps {
  readonly ctx: ExchangeContext;
  /** The stream's storage in the object. */
  readonly store: EventStore;
  /** The object's one flush clock, shared by all of its streams. */
  readonly clock: FlushClock;
  /** Called once the stream's outcome is decided (the object then sets its retention alarm). */
  readonly onFinished: () => void;
}

/** The answer to a start request, and the live session when a stream began. */
export interface StoredStart {
  readonly response: Response;
  readonly session: StreamSession | undefined;
}

/**
 * Runs a plan inside its stream's Durable Object: opens the upstream, and for a stream creates the
 * stored record and the session (numbering, fan-out, storage), then reads the pipeline to its end
 * whether or not anyone is listening. Errors before the first byte answer in the client's format and
 * store nothing. The object itself writes the stream's one data point, so it is written even when
 * no client is left.
 */
export async function startStoredStream(
  spec: StartSpec,
  owner: string,
  deps: StoredStreamDeps,
): Promise<StoredStart> {
  const { plan } = spec;
  if (!isFormatName(plan.format) || deps.store.record() !== undefined) {
    throw new GatewayError(400, ERROR_CODE.invalidRequest, "invalid stream start");
  }
  const format = FORMATS[plan.format];
  const { config, sink } = deps.ctx;
  const call: AttemptCall = {
    clientHeaders: new Headers(spec.clientHeaders),
    config,
    receivedAt: plan.receivedAt,
  };
  let answer: Answer;
  try {
    // The attempt loop runs here, in the object: it goes on when the client has left.
    answer = await openAnswer(plan, call, deps.ctx.circuits);
  } catch (err) {
    return { response: errorResponse(err, format.errorShape), session: undefined };
  }
  const { x, attempt, source } = answer;
  answerHeaders(answer);
  if (!plan.stream || !x.isStream || source === undefined) {
    try {
      return { response: await jsonResponse(plan, attempt, x, config), session: undefined };
    } catch (err) {
      return { response: errorResponse(err, format.errorShape), session: undefined };
    }
  }
  const state = x.state;
  // The edge read the plan's whereabouts before sending it here (the host's name needed the colo).
  trackStream(plan, answer, state, sink, () => whereSent(plan));
  const upstream = answerUpstream(plan, answer, call, deps.ctx.circuits);
  const session = new StreamSession(
    deps.store,
    format,
    config.streamLimits,
    Date.now,
    (outcome) => {
      try {
        state.finish(outcome);
      } finally {
        // The object must let the stream go (memory, heartbeat, slot) even if an end listener threw.
        deps.onFinished();
      }
    },
    deps.clock,
  );
  session.deferRecord({
    streamId: spec.streamId,
    state: "streaming",
    detail: null,
    model: plan.model,
    provider: attempt.provider,
    route: plan.route,
    format: plan.format,
    owner,
    createdAt: Date.now(),
    finishedAt: null,
    eventCount: 0,
    byteCount: 0,
    attempts: [
      ...answer.failed.map((f) => ({ ...f, outcome: "failed" as const })),
      { target: attempt.target, outcome: "answered" },
    ],
    hedged: answer.hedged,
  });
  // The timings travel as a final SSE comment, stored like any event so replays end the same way.
  session.onResume = () => state.metrics.resume();
  session.trailer = () => {
    if (state.outputTokens !== undefined) state.metrics.usage(state.outputTokens);
    // Counted once, here: the session now holds every event it sent (its own error events too), in
    // the UTF-8 bytes its readers received; only this comment, which carries the count, is left out.
    state.metrics.bytesSent(session.bytes);
    return timingComment(state.metrics.snapshot(Date.now()));
  };
  const driven = driveItems(
    {
      body: source,
      format,
      state,
      abortUpstream: upstream.abort,
      translate: translateStage(attempt, format),
      steps: guardSteps(config, format, state, upstream.abort),
      maxEventBytes: config.maxEventBytes,
      watch: config.watch,
      resumer: upstream.resumer,
    },
    (item) => {
      session.append(item.ev);
      if (item.info.parts.length > 0) state.metrics.firstClientContent(Date.now());
    },
  );
  // Keep-alives go to every live reader from the session; never numbered or stored.
  session.keepAlive(config.watch.keepAliveMs);
  const body = session.reader(0);
  // Ending early (cancel, limits) stops the upstream at once, not at its next token.
  session.abortUpstream = (reason) => {
    upstream.abort(reason);
    driven.cancel(reason);
  };
  endWhenDriven(driven, session, state);
  for (const [k, v] of Object.entries(SSE_RESPONSE_HEADERS)) x.headers.set(k, v);
  x.headers.set(HEADER.streamId, spec.streamId);
  return { response: new Response(body, { status: 200, headers: x.headers }), session };
}

/** The pipeline was read to its end (whether or not anyone was listening): the session ends as it did. */
function endWhenDriven(driven: DrivenEvents, session: StreamSession, state: StreamState): void {
  driven.done
    .then(
      () => session.end(state.upstreamOutcome(), undefined, state.endDetail()),
      () =>
        session.end(STREAM_OUTCOME.interrupted, {
          code: ERROR_CODE.internal,
          message: "the gateway failed while streaming this answer",
        }),
    )
    // end() closes its readers before it calls the end listeners: a throw after that leaves nobody waiting.
    .catch(() => {});
}
