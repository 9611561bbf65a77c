import type { NumberedStream } from "./fixtures.ts";

/** How a connection ends after `at` bytes of its body: a clean early close, or a network error. */
export interface Cut {
  readonly at: number;
  readonly how: "close" | "error";
}

/** One connection's body as the fake serves it, with its event end offsets (for choosing cuts). */
export interface ServedBody {
  /** 0 for the POST, 1 for the first resume, ... */
  readonly connection: number;
  readonly bytes: Uint8Array;
  /** Byte offsets in `bytes` just past each event this body carries. */
  readonly ends: readonly number[];
}

/** A request the fake saw. */
export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Headers;
  readonly body: string | null;
  readonly signal: AbortSignal | undefined;
}

/** Behaviour of the fake gateway. */
export interface FakeGatewayOptions {
  readonly stream: NumberedStream;
  /** The `x-stream-id` header; null sends none. */
  readonly streamId?: string | null;
  readonly resumeToken?: string;
  /** Where each connection is cut; undefined serves the body to its end. */
  readonly cut?: (body: ServedBody) => Cut | undefined;
  /** "hang" keeps the connection open after the cut's bytes, until the client aborts it. */
  readonly hangAt?: (body: ServedBody) => number | undefined;
  /** How delivered bytes are split into chunks (default: one chunk). */
  readonly chunking?: (bytes: Uint8Array) => Uint8Array[];
  /** Status of resume number n (1-based); 200 serves the replay, "network" rejects the fetch. */
  readonly resumeStatus?: (resume: number) => number | "network";
  /** Replays from the start whatever the cursor says (the client must deduplicate). */
  readonly ignoreCursor?: boolean;
  /** Leaves out this event id from replays (a broken server: the client must notice the gap). */
  readonly skipOnReplay?: number;
  /** Holds the POST's response until the returned promise's trigger is called. */
  readonly holdPost?: Promise<void>;
  /** The POST's status and JSON body instead of a stream. */
  readonly postError?: { readonly status: number; readonly body: string };
}

/** The `retry:` line a resume response starts with, as the gateway sends it. */
export const RETRY_PREFIX = "retry: 1000\n\n";

const encoder = new TextEncoder();

/** A fake gateway behind a `fetch`: POST streams the fixture, GET /v1/streams/{id} replays from Last-Event-ID. */
export class FakeGateway {
  readonly requests: SeenRequest[] = [];
  /** Connections the client cancelled or aborted while they were open. */
  closedByClient = 0;
  readonly #options: FakeGatewayOptions;
  #connections = 0;
  #resumes = 0;

  constructor(options: FakeGatewayOptions) {
    this.#options = options;
  }

  /** The injected fetch. */
  readonly fetch = async (input: string, init: RequestInit): Promise<Response> => {
    const headers = new Headers(init.headers);
    const method = init.method ?? "GET";
    const signal = init.signal ?? undefined;
    this.requests.push({
      method,
      url: input,
      headers,
      body: typeof init.body === "string" ? init.body : null,
      signal,
    });
    if (signal?.aborted) throw abortError();
    const streamId = this.#options.streamId === undefined ? "s-test" : this.#options.streamId;
    if (method === "DELETE") return Response.json({ id: streamId, state: "cancelled" });
    if (method === "POST") {
      if (this.#options.holdPost) await untilAborted(this.#options.holdPost, signal);
      if (this.#options.postError) {
        return new Response(this.#options.postError.body, {
          status: this.#options.postError.status,
          headers: { "content-type": "application/json" },
        });
      }
      const headers = new Headers({ "content-type": "text/event-stream" });
      if (streamId !== null) headers.set("x-stream-id", streamId);
      if (this.#options.resumeToken) headers.set("x-resume-token", this.#options.resumeToken);
      const { bytes, ends } = this.#options.stream;
      return this.#serve({ connection: this.#connections++, bytes, ends }, headers, signal);
    }
    this.#resumes++;
    const status = this.#options.resumeStatus?.(this.#resumes) ?? 200;
    if (status === "network") throw new TypeError("fetch failed");
    if (status !== 200) return Response.json({ error: { message: "no", code: "x" } }, { status });
    const cursor = Number(headers.get("last-event-id") ?? "0");
    if (cursor > this.#options.stream.ends.length)
      return Response.json({ error: "bad cursor" }, { status: 400 });
    const served = this.#replay(this.#options.ignoreCursor ? 0 : cursor);
    return this.#serve(served, new Headers({ "content-type": "text/event-stream" }), signal);
  };

  /** The requests with the given method. */
  seen(method: string): SeenRequest[] {
    return this.requests.filter((request) => request.method === method);
  }

  #replay(after: number): ServedBody {
    const { bytes, ends } = this.#options.stream;
    const pieces: Uint8Array[] = [encoder.encode(RETRY_PREFIX)];
    const servedEnds: number[] = [];
    let length = pieces[0]?.length ?? 0;
    for (let event = after + 1; event <= ends.length; event++) {
      if (event === this.#options.skipOnReplay) continue;
      const piece = bytes.subarray(ends[event - 2] ?? 0, ends[event - 1]);
      pieces.push(piece);
      length += piece.length;
      servedEnds.push(length);
    }
    const body = new Uint8Array(length);
    let offset = 0;
    for (const piece of pieces) {
      body.set(piece, offset);
      offset += piece.length;
    }
    return { connection: this.#connections++, bytes: body, ends: servedEnds };
  }

  #serve(served: ServedBody, headers: Headers, signal: AbortSignal | undefined): Response {
    const cut = this.#options.cut?.(served);
    const hangAt = this.#options.hangAt?.(served);
    const limit = hangAt ?? cut?.at ?? served.bytes.length;
    const delivered = served.bytes.subarray(0, limit);
    const chunks = delivered.length === 0 ? [] : (this.#options.chunking?.(delivered) ?? [delivered]);
    const ending = hangAt !== undefined ? "hang" : (cut?.how ?? "close");
    let next = 0;
    let open = true;
    const onCancel = (): void => {
      if (open) this.closedByClient++;
      open = false;
    };
    const stream = new ReadableStream<Uint8Array>({
      start: (controller) => {
        signal?.addEventListener("abort", () => {
          onCancel();
          try {
            controller.error(abortError());
          } catch {
            // Already closed: nothing to abort.
          }
        });
      },
      pull: (controller) => {
        const chunk = chunks[next++];
        if (chunk !== undefined) {
          controller.enqueue(chunk);
          return;
        }
        if (ending === "hang") return new Promise<void>(() => undefined);
        open = false;
        if (ending === "close") controller.close();
        else controller.error(new TypeError("network connection lost"));
      },
      cancel: onCancel,
    });
    return new Response(stream, { status: 200, headers });
  }
}

// A held request still fails when the client aborts it, as a real fetch does.
function untilAborted(hold: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    signal?.addEventListener("abort", () => reject(abortError()), { once: true });
    hold.then(resolve, reject);
  });
}

function abortError(): Error {
  return new DOMException("The operation was aborted.", "AbortError");
}

/** Splits bytes into pieces of `size` bytes. */
export function piecesOf(size: number): (bytes: Uint8Array) => Uint8Array[] {
  return (bytes) => {
    const pieces: Uint8Array[] = [];
    for (let i = 0; i < bytes.length; i += size) pieces.push(bytes.subarray(i, i + size));
    return pieces;
  };
}

/** Splits bytes at positions drawn from a seeded PRNG (mulberry32): same seed, same pieces. */
export function randomPieces(seed: number): (bytes: Uint8Array) => Uint8Array[] {
  return (bytes) => {
    let state = seed >>> 0;
    const random = (): number => {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const pieces: Uint8Array[] = [];
    let start = 0;
    while (start < bytes.length) {
      const size = 1 + Math.floor(random() * 64);
      pieces.push(bytes.subarray(start, start + size));
      start += size;
    }
    return pieces;
  };
}
