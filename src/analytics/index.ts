export {
  BLOB,
  type BlobField,
  buildDataPoint,
  type DataPointMeta,
  DOUBLE,
  type DoubleField,
  type GatewayDataPoint,
  type GuardrailVerdict,
  type LogLine,
  locationFromCf,
  MISSING,
  toLogLine,
  truncateUtf8,
  UNENDED_OUTCOME,
  UNHASHED_PRINCIPAL,
} from "./data-point.ts";
export { GapHistogram } from "./gap-histogram.ts";
export {
  SERVER_TIMING_METRIC,
  type ServerTimingInput,
  serverTimingHeader,
  TIMING_COMMENT_NAME,
  timingComment,
} from "./server-timing.ts";
export {
  analyticsEngineSink,
  logSink,
  type MetricsSink,
  type RecordingSink,
  recordingSink,
  SINK_FAILED_MSG,
  type SinkErrorHandler,
  teeSink,
} from "./sink.ts";
export { type MetricsSnapshot, StreamMetrics } from "./stream-metrics.ts";
export { CHARS_PER_TOKEN, type EstimatedText, estimateTokens, SHORT_DELTA_CHARS } from "./token-estimate.ts";
