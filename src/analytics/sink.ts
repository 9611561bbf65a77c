import { type GatewayDataPoint, type LogLine, toLogLine } from "./data-point.ts";

/** Where a stream's one data point goes. A sink never throws: metrics must not break a stream. */
export interface MetricsSink {
  write(point: GatewayDataPoint): void;
}

/** Reports a failed write without the point's content (it may name a principal). */
export type SinkErrorHandler = (error: unknown) => void;

const reportToConsole: SinkErrorHandler = (error) => {
  console.error("analytics sink write failed:", error instanceof Error ? error.message : String(error));
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
 * Logs each point as one structured object: Workers Logs indexes the fields of a logged object, and
 * Analytics Engine writes nothing in local runs, so this is where `npm start` shows the numbers.
 */
export function logSink(log: (line: LogLine) => void = (line) => console.log(line)): MetricsSink {
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
