import { HEADER } from "../protocol.ts";
import { inBandError, responseError, type SocketErrorObject, socketError, thrownError } from "./errors.ts";
import { MessageRate } from "./message-rate.ts";
import { type ClientMessage, exceedsBytes, type MessageProblem, parseClientMessage } from "./messages.ts";
import { SERVER_MESSAGE, SOCKET_ERROR } from "./protocol.ts";
import { type RelayEnd, relayStream } from "./relay.ts";

/** The socket as the session sees it (the runtime's WebSocket at the edge, a recording fake in tests). */
export interface SocketPort {
  send(text: string): void;
  /** Bytes sent but not yet written to the network (0 where the runtime does not tell). */
  buffered(): number;
}

/**
 * The gateway's stream operations, each the same code path as its HTTP route: `create` is
 * `POST /v1/chat/completions`, `resume` is `GET /v1/streams/{id}`, `cancel` is `DELETE`. They may
 * throw a GatewayError or answer non-2xx, exactly as the routes do.
 */
export interface StreamOps {
  create(body: Record<string, unknown>, signal: AbortSignal): Promise<Response>;
  resume(stream: string, after: number, token: string | undefined, signal: AbortSignal): Promise<Response>;
  cancel(stream: string, token: string | undefined): Promise<Response>;
}

/** One socket's limits (`WS_*` settings, with the stream count already capped by `MAX_OPEN_STREAMS`). */
export interface SessionLimits {
  readonly maxStreams: number;
  readonly maxMessageBytes: number;
  readonly messagesPerSecond: number;
  readonly sendBufferBytes: number;
}

interface Followed {
  readonly stop: AbortController;
  cancelling: boolean;
}

function stringify(message: Record<string, unknown>): string {
  return JSON.stringify(message);
}

/**
 * One client socket of `GET /v1/ws`: parses messages, runs them through `StreamOps`, and relays
 * every followed stream's events, several at once. A bad message is answered with an `error` naming
 * the problem and the socket stays open; a stream that fails gets a `stream.error`. Streams live in
 * their Durable Objects, so closing the socket only stops relaying them.
 */
export class SocketSession {
  readonly #socket: SocketPort;
  readonly #ops: StreamOps;
  readonly #limits: SessionLimits;
  readonly #now: () => number;
  readonly #rate: MessageRate;
  readonly #streams = new Map<string, Followed>();
  /** Creates and resumes whose response has not come yet: they count against the stream limit. */
  #pending = 0;
  #closed = false;
  /** Settles when every relay this session started has ended (for tests and the edge's waitUntil). */
  readonly #work = new Set<Promise<void>>();

  constructor(socket: SocketPort, ops: StreamOps, limits: SessionLimits, now: () => number = Date.now) {
    this.#socket = socket;
    this.#ops = ops;
    this.#limits = limits;
    this.#now = now;
    this.#rate = new MessageRate(limits.messagesPerSecond, now());
  }

  /** Streams being relayed on this socket now. */
  get following(): number {
    return this.#streams.size;
  }

  /** Resolves once every request and relay started so far has finished. */
  async idle(): Promise<void> {
    while (this.#work.size > 0) await Promise.all([...this.#work]);
  }

  /** Handles one frame from the client. */
  receive(data: string | ArrayBuffer | ArrayBufferView): void {
    if (this.#closed) return;
    if (typeof data !== "string") {
      this.#refuse({
        code: SOCKET_ERROR.binaryMessage,
        message: "binary frames are not accepted; send JSON text",
      });
      return;
    }
    if (exceedsBytes(data, this.#limits.maxMessageBytes)) {
      this.#refuse({
        code: SOCKET_ERROR.messageTooLarge,
        message: `message is larger than ${this.#limits.maxMessageBytes} bytes (WS_MAX_MESSAGE_BYTES)`,
      });
      return;
    }
    const parsed = parseClientMessage(data);
    if (!parsed.ok) {
      this.#refuse(parsed.problem);
      return;
    }
    const message = parsed.message;
    // chat.create is one request of the gateway's rate limits; everything else is the socket's own.
    if (message.type !== "chat.create" && !this.#rate.take(this.#now())) {
      this.#refuse({
        code: SOCKET_ERROR.messageRate,
        message: `more than ${this.#limits.messagesPerSecond} messages per second on this socket (WS_MESSAGE_RATE)`,
        ...refOf(message),
      });
      return;
    }
    this.#track(this.#dispatch(message));
  }

  /** The socket closed: stop relaying (the streams go on in their objects, resumable by id). */
  close(): void {
    this.#closed = true;
    for (const followed of this.#streams.values()) followed.stop.abort();
    this.#streams.clear();
  }

  async #dispatch(message: ClientMessage): Promise<void> {
    switch (message.type) {
      case "ping":
        this.#send({ type: SERVER_MESSAGE.pong, ...refOf(message) });
        return;
      case "chat.create":
        return this.#create(message.body, message.ref);
      case "stream.resume":
        return this.#resume(message.stream, message.after, message.token, message.ref);
      case "stream.cancel":
        return this.#cancel(message.stream, message.token, message.ref);
    }
  }

  #hasRoom(ref: string | undefined, stream?: string): boolean {
    if (this.#streams.size + this.#pending < this.#limits.maxStreams) return true;
    this.#refuse({
      code: SOCKET_ERROR.tooManyStreams,
      message: `this socket already carries ${this.#limits.maxStreams} streams (WS_MAX_STREAMS, capped by MAX_OPEN_STREAMS); wait for one to end or cancel one`,
      ...(ref === undefined ? {} : { ref }),
      ...(stream === undefined ? {} : { stream }),
    });
    return false;
  }

  async #create(body: Record<string, unknown>, ref: string | undefined): Promise<void> {
    if (!this.#hasRoom(ref)) return;
    const stop = new AbortController();
    this.#pending++;
    let res: Response;
    try {
      // The socket always streams: the body is the one /v1/chat/completions takes, `stream` forced on.
      res = await this.#ops.create({ ...body, stream: true }, stop.signal);
    } catch (err) {
      this.#refuseWith(thrownError(err), ref);
      return;
    } finally {
      this.#pending--;
    }
    const stream = res.headers.get(HEADER.streamId);
    if (!res.ok || res.body === null || stream === null) {
      const error = res.ok
        ? socketError(SOCKET_ERROR.invalidMessage, "the answer is not a resumable stream")
        : await responseError(res);
      if (res.ok) res.body?.cancel().catch(() => {});
      this.#refuseWith(error, ref);
      return;
    }
    if (this.#closed) {
      res.body.cancel().catch(() => {});
      return;
    }
    const token = res.headers.get(HEADER.resumeToken);
    this.#send({
      type: SERVER_MESSAGE.streamStarted,
      ...(ref === undefined ? {} : { ref }),
      stream,
      ...(token === null ? {} : { resumeToken: token }),
    });
    await this.#follow(stream, res.body, stop);
  }

  async #resume(
    stream: string,
    after: number,
    token: string | undefined,
    ref: string | undefined,
  ): Promise<void> {
    if (this.#streams.has(stream)) {
      this.#refuse({
        code: SOCKET_ERROR.alreadyFollowing,
        message: "this stream is already followed on this socket",
        stream,
        ...(ref === undefined ? {} : { ref }),
      });
      return;
    }
    if (!this.#hasRoom(ref, stream)) return;
    const stop = new AbortController();
    this.#pending++;
    let res: Response;
    try {
      res = await this.#ops.resume(stream, after, token, stop.signal);
    } catch (err) {
      this.#streamError(stream, thrownError(err), ref);
      return;
    } finally {
      this.#pending--;
    }
    if (!res.ok || res.body === null) {
      this.#streamError(stream, await responseError(res), ref);
      return;
    }
    if (this.#closed || this.#streams.has(stream)) {
      res.body.cancel().catch(() => {});
      return;
    }
    this.#send({ type: SERVER_MESSAGE.streamResumed, ...(ref === undefined ? {} : { ref }), stream, after });
    await this.#follow(stream, res.body, stop);
  }

  async #cancel(stream: string, token: string | undefined, ref: string | undefined): Promise<void> {
    const followed = this.#streams.get(stream);
    if (followed !== undefined) followed.cancelling = true;
    let res: Response;
    try {
      res = await this.#ops.cancel(stream, token);
    } catch (err) {
      if (followed !== undefined) followed.cancelling = false;
      this.#streamError(stream, thrownError(err), ref);
      return;
    }
    if (!res.ok) {
      if (followed !== undefined) followed.cancelling = false;
      this.#streamError(stream, await responseError(res), ref);
      return;
    }
    res.body?.cancel().catch(() => {});
    // Nothing of the stream follows its `stream.cancelled` on this socket.
    this.#stopFollowing(stream, followed);
    this.#send({ type: SERVER_MESSAGE.streamCancelled, ...(ref === undefined ? {} : { ref }), stream });
  }

  async #follow(stream: string, body: ReadableStream<Uint8Array>, stop: AbortController): Promise<void> {
    const followed: Followed = { stop, cancelling: false };
    this.#streams.set(stream, followed);
    const prefix = `{"type":"${SERVER_MESSAGE.event}","stream":"${stream}","id":`;
    const end = await relayStream(
      body,
      {
        event: (id, data) => {
          if (this.#socket.buffered() > this.#limits.sendBufferBytes) return false;
          // The chunk's JSON is spliced in as it came: no re-serialization per event.
          try {
            this.#socket.send(`${prefix}${id},"data":${data}}`);
          } catch {
            // The socket closed under us: its close handler stops this relay.
          }
          return true;
        },
      },
      stop.signal,
    );
    if (this.#streams.get(stream) !== followed) return;
    this.#stopFollowing(stream, followed);
    if (followed.cancelling) return;
    this.#ended(stream, end);
  }

  #stopFollowing(stream: string, followed: Followed | undefined): void {
    followed?.stop.abort();
    if (followed !== undefined && this.#streams.get(stream) === followed) this.#streams.delete(stream);
  }

  #ended(stream: string, end: RelayEnd): void {
    switch (end.kind) {
      case "done": {
        let timings: unknown;
        try {
          timings = end.timings === undefined ? undefined : JSON.parse(end.timings);
        } catch {
          timings = undefined;
        }
        this.#send({
          type: SERVER_MESSAGE.streamDone,
          stream,
          ...(timings === undefined ? {} : { timings }),
        });
        return;
      }
      case "error":
        this.#streamError(stream, inBandError(end.error));
        return;
      case "ended":
        this.#streamError(
          stream,
          socketError(SOCKET_ERROR.streamEnded, "the stream ended without [DONE]; resume it to read on"),
        );
        return;
      case "slow":
        this.#streamError(
          stream,
          socketError(
            SOCKET_ERROR.slowReader,
            `the socket's send buffer passed ${this.#limits.sendBufferBytes} bytes (WS_SEND_BUFFER_BYTES): this stream stopped after event ${end.after}; resume it with stream.resume`,
          ),
          undefined,
          end.after,
        );
        return;
      case "aborted":
        return;
    }
  }

  #track(work: Promise<void>): void {
    const tracked = work.catch((err: unknown) => {
      console.error(JSON.stringify({ msg: "socket message failed", error: String(err) }));
    });
    this.#work.add(tracked);
    void tracked.finally(() => this.#work.delete(tracked));
  }

  #refuse(problem: MessageProblem): void {
    const { code, message, ref, stream } = problem;
    this.#send({
      type: SERVER_MESSAGE.error,
      ...(ref === undefined ? {} : { ref }),
      ...(stream === undefined ? {} : { stream }),
      error: socketError(code, message),
    });
  }

  #refuseWith(error: SocketErrorObject, ref: string | undefined): void {
    this.#send({ type: SERVER_MESSAGE.error, ...(ref === undefined ? {} : { ref }), error });
  }

  #streamError(stream: string, error: SocketErrorObject, ref?: string, after?: number): void {
    this.#send({
      type: SERVER_MESSAGE.streamError,
      ...(ref === undefined ? {} : { ref }),
      stream,
      ...(after === undefined ? {} : { after }),
      error,
    });
  }

  #send(message: Record<string, unknown>): void {
    if (this.#closed) return;
    try {
      this.#socket.send(stringify(message));
    } catch {
      // The socket closed under us: the close handler stops everything else.
    }
  }
}

function refOf(message: ClientMessage): { ref?: string } {
  return message.ref === undefined ? {} : { ref: message.ref };
}
