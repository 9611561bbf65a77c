import { type GatewayDataPoint, type LogLine, toLogLine } from "./data-point.ts";

/** Where a stream's one data point goes. A sink never throws: metrics must not break a stream. */
export interface MetricsSink {
  write(point: GatewayDataPoint): void;
}

/** Reports a failed write without the point's content (it may name a principal). */
export type SinkErrorHandler = (error: unknown) => void;

/** The message of a sink failure log line (also what a log filter matches on). */
export const SINK_FAILED_MSG = "analytics sink write failed";

/** One JSON line, like every structured log of the gateway (`{"msg": ..., "error": ...}`). */
const reportToConsole: SinkErrorHandler = (error) => {
  const message = error instanceof Error ? error.message : String(error);
  console.error(JSON.stringify({ msg: SINK_FAILED_MSG, error: message }));
};

/**
 * Prints a point's log line as one line of JSON. An object passed to `console.log` is printed
 * across many lines by `wrangler dev` (Node's inspector format), which no log tool reads as one record.
 */
const printLine = (line: LogLine): void => {
  console.log(JSON.stringify(line));
};

/**
 * The Analytics Engine binding as a sink; the only place the binding is touched. An absent binding
 * (not configured) is a no-op. `writeDataPoint` is fire-and-forget (nothing to await), but it can
 * throw on a malformed point, which is reported and swallowed.
 */
export function analyticsEngineSink(
  dataset: AnalyticsEngineDataset | undefined,
  onError: SinkErrorHandler = reportToConsole,
): MetricsSink {
  return {
    write(point) {
      if (dataset === undefined) return;
      try {
        dataset.writeDataPoint(point);
      } catch (error) {
        onError(error);
      }
    },
  };
}

/**
 * Logs each point as one JSON line (`toLogLine`): Workers Logs indexes the fields of a JSON log line,
 * and Analytics Engine writes nothing in local runs, so this is where `npm start` shows the numbers.
 */
export function logSink(log: (line: LogLine) => void = printLine): MetricsSink {
  return {
    write(point) {
      try {
        log(toLogLine(point));
      } catch (error) {
        reportToConsole(error);
      }
    },
  };
}

/** Writes each point to every sink; one failing sink does not keep the point from the others. */
export function teeSink(...sinks: readonly MetricsSink[]): MetricsSink {
  return {
    write(point) {
      for (const sink of sinks) {
        try {
          sink.write(point);
        } catch (error) {
          reportToConsole(error);
        }
      }
    },
  };
}

/** A sink that keeps what it was given, for tests. */
export interface RecordingSink extends MetricsSink {
  /** Every point written, in order. */
  readonly points: readonly GatewayDataPoint[];
}

/** Records points in memory: the only way to see what would be written, since Analytics Engine is a no-op locally. */
export function recordingSink(): RecordingSink {
  const points: GatewayDataPoint[] = [];
  return {
    points,
    write(point) {
      points.push(point);
    },
  };
}
