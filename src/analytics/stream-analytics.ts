import type { Env } from "../env.ts";
import type { StreamState } from "../pipeline/stream-state.ts";
import { buildDataPoint, type DataPointMeta } from "./data-point.ts";
import { analyticsEngineSink, logSink, type MetricsSink, teeSink } from "./sink.ts";

/** Where data points go: Analytics Engine (the `TTFT` binding) and one structured log line each. */
export function gatewaySink(env: Env): MetricsSink {
  return teeSink(analyticsEngineSink(env.TTFT), logSink());
}

/**
 * Writes the stream's one data point when its outcome is decided, whichever way it ends (complete,
 * interrupted, blocked, cancelled, lost): `StreamMetrics.end` is true only the first time. The
 * guardrail verdict and the upstream's request id are read from `state` then, because both are
 * learnt after the state is created (the id arrives with the upstream's headers).
 */
export function attachAnalytics(
  state: StreamState,
  meta: Omit<DataPointMeta, "guardrail" | "upstreamRequestId">,
  sink: MetricsSink,
): void {
  state.onEnd((outcome) => {
    if (state.outputTokens !== undefined) state.metrics.usage(state.outputTokens);
    if (!state.metrics.end(Date.now(), outcome)) return;
    const ended = { ...meta, guardrail: state.guardrail, upstreamRequestId: state.upstreamRequestId };
    sink.write(buildDataPoint(ended, state.metrics.snapshot()));
  });
}
