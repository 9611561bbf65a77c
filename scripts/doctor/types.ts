/**
 * The doctor's data: what one probe asked for, what arrived, and what that means. Plain data, so
 * every stage (recorder, classifier, advice, report) is a pure function a unit test can drive.
 */

/** The two ways the doctor asks: like a browser or SDK, and without compression. */
export type ProbeName = "compressed" | "identity";

/** One probe request: how it asks, and the cadence the gateway is asked to send at. */
export interface ProbeSpec {
  readonly name: ProbeName;
  /** The `Accept-Encoding` request header: intermediaries often compress only for clients that accept it. */
  readonly acceptEncoding: string;
  readonly events: number;
  readonly intervalMs: number;
  readonly payloadBytes: number;
  /** The silent pause comes before this event (1-based); 0 without a pause. */
  readonly pauseAtEvent: number;
  readonly pauseMs: number;
}

/** One probe event as it arrived. */
export interface ProbeEvent {
  readonly seq: number;
  /** The gateway's clock when it sent the event (`Date.now()` in the worker). */
  readonly sentAt: number;
  /** Milliseconds after the request started when the bytes completing the event arrived. */
  readonly atMs: number;
}

/** How the response body ended. */
export type EndKind =
  /** The body ended as HTTP says it should (final chunk or content-length reached). */
  | "complete"
  /** The connection closed or reset before the body was complete. */
  | "reset"
  /** The doctor gave up waiting (its own deadline). */
  | "timeout";

/** Everything one probe observed, times in milliseconds after the request started. */
export interface ProbeRecord {
  readonly spec: ProbeSpec;
  readonly status: number;
  /** The HTTP version of the hop nearest to the doctor ("1.1", "1.0"). */
  readonly httpVersion: string;
  /** Response headers as received, names lower-cased, repeated ones joined with ", ". */
  readonly headers: Readonly<Record<string, string>>;
  /** First byte of the response (status line) on the socket. */
  readonly firstByteMs: number | undefined;
  /** Response headers complete. */
  readonly headersMs: number;
  /** Body pieces as they came off the connection (still compressed when the stream is). */
  readonly rawChunks: number;
  readonly rawBytes: number;
  readonly lastByteMs: number | undefined;
  readonly events: readonly ProbeEvent[];
  /** Arrival times of SSE comments other than the gateway's closing `: timings` (keep-alives). */
  readonly keepAlives: readonly number[];
  /** When `data: [DONE]` arrived: the answer really finished. */
  readonly doneMs: number | undefined;
  /** An in-band `{"error":…}` event, its message. */
  readonly inBandError: string | undefined;
  /** The body could not be decompressed. */
  readonly decodeError: string | undefined;
  readonly end: { readonly kind: EndKind; readonly atMs: number; readonly detail?: string };
}

/** One event placed on both clocks, relative to the first event so clock offsets cancel. */
export interface TimelinePoint {
  readonly seq: number;
  /** When the gateway sent it, after the first event. */
  readonly emittedMs: number;
  /** When it arrived, after the first event arrived. */
  readonly arrivedMs: number;
  /** How much longer than the least-delayed event this one waited somewhere on the path. */
  readonly heldMs: number;
}

/** A problem found on the path. */
export type Problem =
  | { readonly kind: "buffered"; readonly heldMs: number; readonly contentLength: boolean }
  | {
      readonly kind: "coalescing";
      readonly largestBurst: number;
      readonly typicalBurst: number;
      readonly bursts: number;
      readonly heldMs: number;
    }
  | { readonly kind: "compressed"; readonly encoding: string }
  | {
      readonly kind: "cut";
      readonly atMs: number;
      /** Silence before the cut: the idle timeout of some layer, roughly. */
      readonly idleMs: number;
      readonly afterEvent: number;
      readonly duringPause: boolean;
    }
  | { readonly kind: "error"; readonly message: string };

/** What a probe says about the path. */
export type VerdictKind = "streaming" | "coalescing" | "buffered" | "compressed" | "cut" | "error";

/** The classification of one probe. */
export interface Verdict {
  readonly kind: VerdictKind;
  readonly problems: readonly Problem[];
  readonly timeline: readonly TimelinePoint[];
  /** Sizes of the groups of events that arrived together, in order. */
  readonly bursts: readonly number[];
  readonly received: number;
  readonly expected: number;
  readonly keepAlives: number;
  /** Time to the response's first byte, and to the first probe event. */
  readonly ttfbMs: number | undefined;
  readonly firstEventMs: number | undefined;
  /** The worst hold of any event (0 when every event came on its own). */
  readonly heldMs: number;
}

/** What to do about a problem, and where the doctor thinks it comes from. */
export interface Advice {
  readonly problem: Problem["kind"];
  readonly probe: ProbeName;
  readonly summary: string;
  readonly layer: string;
  readonly fix: string;
  /** A section of docs/proxies.md. */
  readonly doc: string;
}
