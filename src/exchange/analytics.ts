import { buildDataPoint, type DataPointMeta } from "../analytics/data-point.ts";
import type { MetricsSink } from "../analytics/sink.ts";
import type { StreamState } from "../pipeline/stream-state.ts";
import type { Answer } from "./attempts.ts";
import type { StreamPlan, Whereabouts } from "./plan.ts";

/**
 * Writes the stream's one data point when its outcome is decided, whichever way it ends (complete,
 * interrupted, blocked, cancelled, lost): `StreamMetrics.end` is true only the first time. The
 * guardrail verdict, the upstream's request id and the malformed-event count are read from `state`
 * then, because they are learnt after the state is created (the id arrives with the upstream's headers).
 * `meta` is called then too: what it reads costs nothing before the answer's first byte.
 */
export function attachAnalytics(
  state: StreamState,
  meta: () => Omit<
    DataPointMeta,
    "guardrail" | "upstreamRequestId" | "malformedEvents" | "continuations" | "continuedAfter" | "classifiers"
  >,
  sink: MetricsSink,
): void {
  state.onEnd((outcome) => {
    if (state.outputTokens !== undefined) state.metrics.usage(state.outputTokens);
    if (!state.metrics.end(Date.now(), outcome)) return;
    const ended = {
      ...meta(),
      guardrail: state.guardrail,
      upstreamRequestId: state.upstreamRequestId,
      malformedEvents: state.malformedEvents,
      continuations: state.continuations,
      classifiers: state.classifiers,
      ...(state.continuedAfter === undefined ? {} : { continuedAfter: state.continuedAfter }),
    };
    sink.write(buildDataPoint(ended, state.metrics.snapshot()));
  });
}

/**
 * Writes the plan's stream to `sink` when it ends. Its timings already start when the request was
 * received: the attempt marked that when it created the state (openAttempt), before `server-timing`.
 * `where` is asked for at the end (see whereFrom).
 */
export function trackStream(
  plan: StreamPlan,
  answer: Answer,
  state: StreamState,
  sink: MetricsSink,
  where: () => Whereabouts,
): void {
  const { attempt } = answer;
  attachAnalytics(
    state,
    () => ({
      route: `${plan.route}/${plan.format}`,
      provider: attempt.provider,
      model: plan.model,
      ...where(),
      principal: plan.principal,
      target: attempt.target,
      attempts: answer.attempts,
      hedged: answer.hedged,
      ...(plan.streamId === undefined ? {} : { streamId: plan.streamId }),
    }),
    sink,
  );
}
