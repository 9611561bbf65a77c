/**
 * Sends one probe with node:http(s) and records every body piece the moment it comes off the
 * connection, still compressed if it is, then decodes it. Node's fetch would decompress
 * transparently and hide both the encoding and when the compressed bytes really arrived.
 */
import http from "node:http";
import https from "node:https";
import type { Socket } from "node:net";
import { performance } from "node:perf_hooks";
import { bodyDecoder } from "./decode.ts";
import { deadlineMs, probeBody, probeHeaders } from "./plan.ts";
import { ProbeRecorder } from "./recorder.ts";
import type { ProbeRecord, ProbeSpec } from "./types.ts";

/** Headers must arrive within this time, or the doctor says the URL does not answer. */
const HEADERS_TIMEOUT_MS = 15_000;
/** How much of a body that is not an event stream is kept, to say what it is. */
const MAX_SAMPLE_BYTES = 4096;

/** The outcome of one probe request. */
export type Capture =
  /** The request failed before any response: connection refused, DNS, TLS, timeout. */
  | { readonly kind: "failed"; readonly code: string; readonly message: string }
  /** A response that is not an event stream (an error, a web page): its start, to diagnose. */
  | {
      readonly kind: "other";
      readonly status: number;
      readonly headers: Readonly<Record<string, string>>;
      readonly sample: string;
    }
  /** An event stream, fully recorded. */
  | { readonly kind: "stream"; readonly record: ProbeRecord };

/** Sends one probe. */
export type CaptureFn = (endpoint: URL, spec: ProbeSpec, key: string | undefined) => Promise<Capture>;

function flatHeaders(headers: http.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return out;
}

function errorCode(err: unknown): string {
  if (typeof err === "object" && err !== null && "code" in err && typeof err.code === "string")
    return err.code;
  return "ERROR";
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Sends `spec` to `endpoint` and records what arrives. Never throws. */
export const captureProbe: CaptureFn = (endpoint, spec, key) => {
  const body = probeBody(spec);
  const bytes = Buffer.from(body);
  const t0 = performance.now();
  const now = () => performance.now() - t0;
  const recorder = new ProbeRecorder(spec);
  const client = endpoint.protocol === "https:" ? https : http;

  return new Promise<Capture>((resolve) => {
    let settled = false;
    const finish = (capture: Capture) => {
      if (settled) return;
      settled = true;
      clearTimeout(headersTimer);
      clearTimeout(deadline);
      resolve(capture);
    };
    // A fresh connection per probe (agent: false): a reused one would hide connection setup in the
    // numbers, and the two probes must not share one.
    const req = client.request(endpoint, {
      method: "POST",
      headers: probeHeaders(spec, key, bytes.byteLength),
      agent: false,
    });
    const headersTimer = setTimeout(() => {
      req.destroy();
      finish({
        kind: "failed",
        code: "ETIMEDOUT",
        message: `no response within ${HEADERS_TIMEOUT_MS / 1000} s`,
      });
    }, HEADERS_TIMEOUT_MS);
    let streaming = false;
    let bodyDone: () => void = () => {};
    let timedOut = false;
    const deadline = setTimeout(() => {
      timedOut = true;
      recorder.ended(
        "timeout",
        now(),
        `the doctor stopped waiting after ${Math.round(deadlineMs(spec) / 1000)} s`,
      );
      req.destroy();
      bodyDone();
    }, deadlineMs(spec));

    req.on("socket", (socket: Socket) => {
      // The parser also listens; this one only notes when the first response byte arrived.
      socket.once("data", () => recorder.firstByte(now()));
    });
    req.on("error", (err) => {
      if (!streaming) finish({ kind: "failed", code: errorCode(err), message: errorMessage(err) });
    });
    req.on("response", (res) => {
      clearTimeout(headersTimer);
      const headers = flatHeaders(res.headers);
      const type = headers["content-type"] ?? "";
      const status = res.statusCode ?? 0;
      if (status !== 200 || !type.toLowerCase().startsWith("text/event-stream")) {
        const pieces: Buffer[] = [];
        let size = 0;
        const done = () => {
          req.destroy();
          finish({ kind: "other", status, headers, sample: Buffer.concat(pieces).toString("utf8") });
        };
        res.on("data", (piece: Buffer) => {
          pieces.push(piece);
          size += piece.byteLength;
          if (size >= MAX_SAMPLE_BYTES) done();
        });
        res.on("end", done);
        res.on("error", done);
        return;
      }
      streaming = true;
      recorder.response(now(), status, res.httpVersion, headers);
      const decoder = bodyDecoder(headers["content-encoding"] ?? "");
      if (decoder === undefined)
        recorder.decodeFailed(`cannot decode content-encoding ${headers["content-encoding"]}`);
      let queue: Promise<void> = Promise.resolve();
      const decode = (atMs: number, step: () => Promise<Uint8Array>) => {
        queue = queue.then(async () => {
          try {
            recorder.decoded(atMs, await step());
          } catch (err) {
            recorder.decodeFailed(errorMessage(err));
          }
        });
      };
      res.on("data", (piece: Buffer) => {
        const atMs = now();
        recorder.raw(atMs, piece.byteLength);
        if (decoder !== undefined) decode(atMs, () => decoder.push(piece));
      });
      let ended = false;
      bodyDone = () => {
        if (ended) return;
        ended = true;
        queue.then(() => finish({ kind: "stream", record: recorder.record() }));
      };
      res.on("end", () => {
        recorder.ended("complete", now());
        if (decoder !== undefined) decode(now(), () => decoder.finish());
        bodyDone();
      });
      // 'close' without 'end': the connection went away mid-body (a cut, an idle timeout).
      res.on("close", () => {
        if (!res.complete && !timedOut) {
          recorder.ended("reset", now(), "the connection closed before the response was complete");
          bodyDone();
        }
      });
      res.on("error", () => undefined);
    });
    req.end(bytes);
  });
};
