import { GatewayError } from "../errors.ts";
import { buildPipeline } from "../pipeline/build.ts";
import type { ItemStep } from "../pipeline/steps.ts";
import type { StreamState } from "../pipeline/stream-state.ts";
import type { Translation } from "../pipeline/translation.ts";
import { ERROR_CODE, SSE_RESPONSE_HEADERS } from "../protocol.ts";
import type { WireFormat } from "../upstream/format.ts";
import { FORMATS } from "../upstream/registry.ts";
import { trackStream } from "./analytics.ts";
import { type OpenExchange, openAttempt } from "./attempt.ts";
import type { ExchangeContext } from "./context.ts";
import { jsonResponse } from "./json-answer.ts";
import type { StreamPlan } from "./plan.ts";
import { guardSteps, translateStage } from "./stages.ts";

/** Streams an open SSE exchange to the client through the pipeline, in `format`. */
export function streamResponse(
  x: OpenExchange,
  format: WireFormat,
  translate?: Translation,
  steps: readonly ItemStep[] = [],
): Response {
  if (x.upstream.body === null)
    throw new GatewayError(502, ERROR_CODE.upstreamError, "the upstream sent no body");
  for (const [k, v] of Object.entries(SSE_RESPONSE_HEADERS)) x.headers.set(k, v);
  const stream = buildPipeline({
    body: x.upstream.body,
    format,
    state: x.state,
    abortUpstream: (reason) => x.abort.abort(reason),
    steps,
    ...(translate === undefined ? {} : { translate }),
  });
  return new Response(stream, { status: 200, headers: x.headers });
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
  const attempt = plan.attempts[0];
  const x = await openAttempt(attempt, {
    clientHeaders: request.headers,
    clientGone: request.signal,
    config: ctx.config,
    onState: (state) => {
      if (!plan.stream) return;
      trackStream(plan, attempt, state, ctx.sink);
      onStream(state);
    },
  });
  if (!plan.stream || !x.isStream) return jsonResponse(plan, attempt, x, ctx.config);
  const format = FORMATS[plan.format];
  const steps = guardSteps(ctx.config, format, x.state, (reason) => x.abort.abort(reason));
  return streamResponse(x, format, translateStage(attempt, format), steps);
}
