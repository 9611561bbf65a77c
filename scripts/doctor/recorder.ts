/**
 * Turns a probe's decoded body, piece by piece with arrival times, into a ProbeRecord: the stamped
 * events, `[DONE]`, in-band errors and keep-alive comments. Pure: no I/O, no clock.
 */
import { SseReader } from "../../src/client/sse-reader.ts";
import { PROBE_FIELD } from "../../src/upstream/demo/probe-params.ts";
import type { EndKind, ProbeEvent, ProbeRecord, ProbeSpec } from "./types.ts";

/** The gateway's own closing comment (`: timings {...}`): not a keep-alive. */
const TIMINGS_COMMENT = ": timings";
const MAX_MESSAGE_CHARS = 200;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Collects what one probe saw. */
export class ProbeRecorder {
  readonly #spec: ProbeSpec;
  readonly #sse = new SseReader();
  // A second decoder for the comment scan: the SSE reader drops comments, as the spec says it must.
  readonly #text = new TextDecoder();
  #partialLine = "";
  #status = 0;
  #httpVersion = "";
  #headers: Readonly<Record<string, string>> = {};
  #firstByteMs: number | undefined;
  #headersMs = 0;
  #rawChunks = 0;
  #rawBytes = 0;
  #lastByteMs: number | undefined;
  readonly #events: ProbeEvent[] = [];
  readonly #seen = new Set<number>();
  readonly #keepAlives: number[] = [];
  #doneMs: number | undefined;
  #inBandError: string | undefined;
  #decodeError: string | undefined;
  #end: { kind: EndKind; atMs: number; detail?: string } = { kind: "timeout", atMs: 0 };

  constructor(spec: ProbeSpec) {
    this.#spec = spec;
  }

  /** The first response byte reached the socket. */
  firstByte(atMs: number): void {
    this.#firstByteMs ??= atMs;
  }

  /** Status line and headers are complete. */
  response(
    atMs: number,
    status: number,
    httpVersion: string,
    headers: Readonly<Record<string, string>>,
  ): void {
    this.#headersMs = atMs;
    this.#status = status;
    this.#httpVersion = httpVersion;
    this.#headers = headers;
  }

  /** A piece of the body came off the connection (`rawLength` bytes, possibly compressed). */
  raw(atMs: number, rawLength: number): void {
    this.#rawChunks++;
    this.#rawBytes += rawLength;
    this.#lastByteMs = atMs;
  }

  /** Decoded bytes released by the piece that arrived at `atMs`. */
  decoded(atMs: number, bytes: Uint8Array): void {
    if (bytes.byteLength === 0) return;
    this.#scanComments(atMs, this.#text.decode(bytes, { stream: true }));
    for (const message of this.#sse.push(bytes)) this.#message(atMs, message.data);
  }

  /** The body could not be decompressed: the events after this point are lost. */
  decodeFailed(message: string): void {
    this.#decodeError ??= message.slice(0, MAX_MESSAGE_CHARS);
  }

  /** The body ended. */
  ended(kind: EndKind, atMs: number, detail?: string): void {
    this.#end = detail === undefined ? { kind, atMs } : { kind, atMs, detail };
  }

  /** What was seen. */
  record(): ProbeRecord {
    return {
      spec: this.#spec,
      status: this.#status,
      httpVersion: this.#httpVersion,
      headers: this.#headers,
      firstByteMs: this.#firstByteMs,
      headersMs: this.#headersMs,
      rawChunks: this.#rawChunks,
      rawBytes: this.#rawBytes,
      lastByteMs: this.#lastByteMs,
      events: [...this.#events],
      keepAlives: [...this.#keepAlives],
      doneMs: this.#doneMs,
      inBandError: this.#inBandError,
      decodeError: this.#decodeError,
      end: this.#end,
    };
  }

  #message(atMs: number, data: string): void {
    if (data === "[DONE]") {
      this.#doneMs ??= atMs;
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(data);
    } catch {
      return; // not the probe's: the doctor judges timing, not content
    }
    if (!isRecord(parsed)) return;
    const stamp = parsed[PROBE_FIELD];
    if (isRecord(stamp) && typeof stamp.seq === "number" && typeof stamp.sentAt === "number") {
      // A replayed event (a client resume) is not a new arrival.
      if (this.#seen.has(stamp.seq)) return;
      this.#seen.add(stamp.seq);
      this.#events.push({ seq: stamp.seq, sentAt: stamp.sentAt, atMs });
      return;
    }
    const error = parsed.error;
    if (error !== undefined && this.#inBandError === undefined) {
      const message =
        isRecord(error) && typeof error.message === "string" ? error.message : JSON.stringify(error);
      this.#inBandError = message.slice(0, MAX_MESSAGE_CHARS);
    }
  }

  #scanComments(atMs: number, text: string): void {
    const lines = (this.#partialLine + text).split("\n");
    this.#partialLine = lines.pop() ?? "";
    for (const raw of lines) {
      const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
      if (line.startsWith(":") && !line.startsWith(TIMINGS_COMMENT)) this.#keepAlives.push(atMs);
    }
  }
}
