import type { BodySource } from "../pipeline/body-source.ts";
import { buildPipeline } from "../pipeline/build.ts";
import type { ItemStep } from "../pipeline/steps.ts";
import type { StreamState } from "../pipeline/stream-state.ts";
import type { Translation } from "../pipeline/translation.ts";
import type { Resumer, StreamWatch } from "../pipeline/upstream-events.ts";
import { HEADER, SSE_RESPONSE_HEADERS } from "../protocol.ts";
import type { WireFormat } from "../upstream/format.ts";
import { FORMATS } from "../upstream/registry.ts";
import { trackStream } from "./analytics.ts";
import type { AttemptCall, OpenExchange } from "./attempt.ts";
import { type Answer, openAnswer } from "./attempts.ts";
import type { CircuitBreakers } from "./circuit.ts";
import type { ExchangeContext } from "./context.ts";
import { continuationFor } from "./continuation.ts";
import { jsonResponse } from "./json-answer.ts";
import { type StreamPlan, whereFrom } from "./plan.ts";
import { guardSteps, translateStage } from "./stages.ts";

/**
 * Streams an open SSE exchange to the client through the pipeline, in `format`; an upstream event
 * longer than `maxEventBytes` ends it with an in-band error.
 */
export function streamResponse(
  x: OpenExchange,
  body: BodySource,
  format: WireFormat,
  maxEventBytes: number,
  watch: StreamWatch | undefined,
  translate?: Translation,
  steps: readonly ItemStep[] = [],
  upstream: Upstream = { abort: (reason) => x.abort.abort(reason), resumer: undefined },
): Response {
  for (const [k, v] of Object.entries(SSE_RESPONSE_HEADERS)) x.headers.set(k, v);
  const stream = buildPipeline({
    body,
    format,
    state: x.state,
    abortUpstream: upstream.abort,
    steps,
    maxEventBytes,
    watch,
    resumer: upstream.resumer,
    ...(translate === undefined ? {} : { translate }),
  });
  return new Response(stream, { status: 200, headers: x.headers });
}

/** The upstream a stream reads, as its pipeline sees it: abort whichever attempt now streams, and continue. */
export interface Upstream {
  readonly abort: (reason: string) => void;
  readonly resumer: Resumer | undefined;
}

/**
 * The answer's upstream with its continuation: aborting reaches the attempt streaming at the time
 * (the answering one, then whichever continues it).
 */
export function answerUpstream(
  plan: StreamPlan,
  answer: Answer,
  call: AttemptCall,
  circuits: CircuitBreakers,
): Upstream {
  let current = answer.x.abort;
  return {
    abort: (reason) => current.abort(reason),
    resumer: continuationFor(plan, answer, call, circuits, (abort) => {
      current = abort;
    }),
  };
}

/** Says who answered after how many attempts (`x-gateway-target`, `x-gateway-attempts`). */
export function answerHeaders(answer: Answer): void {
  // A model name comes from the client: encodeURI keeps `/` and makes any other byte header-safe.
  answer.x.headers.set(HEADER.gatewayTarget, encodeURI(answer.attempt.target));
  answer.x.headers.set(HEADER.gatewayAttempts, String(answer.attempts));
}

/**
 * Runs a plan with the client connected directly: no stream id, no resume. `onStream` sees the
 * state of a streaming answer (to free its open-stream slot when it ends).
 */
export async function runDirect(
  plan: StreamPlan,
  request: Request,
  ctx: ExchangeContext,
  onStream: (state: StreamState) => void = () => {},
): Promise<Response> {
  const call: AttemptCall = {
    clientHeaders: request.headers,
    clientGone: request.signal,
    config: ctx.config,
    receivedAt: plan.receivedAt,
  };
  const answer = await openAnswer(plan, call, ctx.circuits);
  const { x, attempt, source } = answer;
  answerHeaders(answer);
  if (!plan.stream || !x.isStream || source === undefined) return jsonResponse(plan, attempt, x, ctx.config);
  trackStream(plan, answer, x.state, ctx.sink, () => whereFrom(plan, request));
  onStream(x.state);
  const format = FORMATS[plan.format];
  const upstream = answerUpstream(plan, answer, call, ctx.circuits);
  const steps = guardSteps(ctx.config, format, x.state, upstream.abort);
  return streamResponse(
    x,
    source,
    format,
    ctx.config.maxEventBytes,
    ctx.config.watch,
    translateStage(attempt, format),
    steps,
    upstream,
  );
}
