import { ChatAccumulator } from "./accumulator.ts";
import { backoffDelay, sleep } from "./backoff.ts";
import { type ParsedData, parseChunk, parseData } from "./chunk.ts";
import { broken, type ConnectionEnd, readConnection } from "./connection.ts";
import { DeltaQueue } from "./delta-queue.ts";
import { followUpHeaders, postHeaders, streamUrl } from "./endpoints.ts";
import {
  GatewayStreamError,
  type ReceivedSoFar,
  StreamAbortedError,
  StreamInterruptedError,
} from "./errors.ts";
import { EventCursor } from "./event-cursor.ts";
import {
  CLIENT_DEFAULTS,
  CLIENT_HEADER,
  GONE_CODE,
  INTERRUPT_REASON,
  type InterruptReason,
  MEDIA_TYPE,
  SOCKET_CLIENT_MESSAGE,
} from "./protocol.ts";
import { discardBody, httpError, isJsonResponse } from "./responses.ts";
import { parseTimingComment, readTimings } from "./server-timings.ts";
import {
  bearerOf,
  readSocket,
  type SocketFactory,
  type SocketHandlers,
  type SocketLike,
  socketUrl,
} from "./socket-connection.ts";
import type { SseMessage } from "./sse-reader.ts";
import type {
  ChatDelta,
  ChatResult,
  ChatStream,
  FetchLike,
  ServerTimings,
  StreamChatOptions,
} from "./types.ts";

/**
 * Posts a streaming chat request and follows it to `[DONE]`, resuming through
 * `GET /v1/streams/{id}` with `Last-Event-ID` when the connection breaks. With
 * `transport: "websocket"` the same stream runs over the gateway's `GET /v1/ws` instead, resumed
 * on a new socket with `stream.resume`.
 */
export function streamChat(options: StreamChatOptions): ChatStream {
  return new ChatStreamRun(options);
}

interface Settle {
  readonly resolve: (result: ChatResult) => void;
  readonly reject: (error: unknown) => void;
}

function deferredResult(): { readonly promise: Promise<ChatResult>; readonly settle: Settle } {
  // The executor runs synchronously, so the placeholder is replaced before anyone can call it.
  let settle: Settle = { resolve: () => undefined, reject: () => undefined };
  const promise = new Promise<ChatResult>((resolve, reject) => {
    settle = { resolve, reject };
  });
  return { promise, settle };
}

class ChatStreamRun implements ChatStream {
  readonly done: Promise<ChatResult>;
  readonly #options: StreamChatOptions;
  readonly #fetch: FetchLike;
  readonly #now: () => number;
  readonly #queue = new DeltaQueue<ChatDelta>();
  readonly #answer = new ChatAccumulator();
  // Aborted by abort(): wakes a backoff sleep so nothing waits on a stream nobody wants.
  readonly #stop = new AbortController();
  readonly #settle: Settle;
  #settled = false;
  #aborted = false;
  #connection: AbortController | undefined;
  #awaitingHeaders = false;
  #headersAfterAbort: (() => void) | undefined;
  #cancelled: Promise<void> | undefined;
  #streamId: string | null = null;
  #token: string | null = null;
  readonly #cursor = new EventCursor();
  #resumes = 0;
  #startedAt = 0;
  #ttftMs: number | null = null;
  #serverTimings: ServerTimings | null = null;

  constructor(options: StreamChatOptions) {
    this.#options = options;
    // Called through a closure: a browser's fetch throws "Illegal invocation" when detached from window.
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.#now = options.now ?? (() => performance.now());
    const { promise, settle } = deferredResult();
    this.done = promise;
    this.#settle = settle;
    // Callers who only iterate get the error from the iterator; this keeps the same rejection of
    // `done` from also being reported as unhandled. Awaiting `done` still sees it.
    this.done.catch(() => undefined);
    const signal = options.signal;
    if (signal?.aborted) {
      void this.abort();
      return;
    }
    signal?.addEventListener("abort", this.#onSignal, { once: true });
    this.#run().then(
      (result) => this.#succeed(result),
      (error: unknown) => this.#fail(error, true),
    );
  }

  /** The gateway's stream id, once the response headers arrived. */
  get streamId(): string | null {
    return this.#streamId;
  }

  /** `GET` here reads the stream again (resume token included); null until the headers named the stream. */
  get resumeUrl(): string | null {
    return this.#streamId === null ? null : streamUrl(this.#options.url, this.#streamId, this.#token);
  }

  /** Iterates the deltas; only one iterator per stream. */
  [Symbol.asyncIterator](): AsyncIterator<ChatDelta> {
    return this.#queue[Symbol.asyncIterator]();
  }

  /** Stops reading and cancels the generation on the gateway; resolves once the DELETE was answered or failed. */
  abort(): Promise<void> {
    if (this.#settled) return this.#cancelled ?? Promise.resolve();
    this.#aborted = true;
    this.#fail(new StreamAbortedError(this.#received()), false);
    this.#stop.abort();
    const connection = this.#connection;
    if (this.#awaitingHeaders && this.#streamId === null) {
      // The POST is in flight and only its headers name the stream: keep it open until they come
      // (bounded), so the DELETE can stop a generation that would otherwise run on unread.
      const timer = setTimeout(() => connection?.abort(), CLIENT_DEFAULTS.abortHeadersWaitMs);
      this.#cancelled = new Promise((resolve) => {
        this.#headersAfterAbort = () => {
          clearTimeout(timer);
          connection?.abort();
          resolve(this.#cancelRemote());
        };
      });
      return this.#cancelled;
    }
    connection?.abort();
    this.#cancelled = this.#cancelRemote();
    return this.#cancelled;
  }

  /** Cuts the current connection as a network drop would; the stream then resumes. */
  interrupt(): void {
    if (!this.#settled) this.#connection?.abort();
  }

  readonly #onSignal = (): void => {
    void this.abort();
  };

  async #run(): Promise<ChatResult> {
    const retries = this.#options.retries ?? CLIENT_DEFAULTS.retries;
    const baseMs = this.#options.backoffMs ?? CLIENT_DEFAULTS.backoffMs;
    const maxMs = this.#options.maxBackoffMs ?? CLIENT_DEFAULTS.maxBackoffMs;
    const wait = this.#options.sleep ?? sleep;
    const random = this.#options.random ?? Math.random;
    let failures = 0;
    this.#startedAt = this.#now();
    let end = await this.#post();
    for (;;) {
      if (end.kind === "done") return this.#result();
      const streamId = this.#streamId;
      if (streamId === null) throw this.#interrupted(INTERRUPT_REASON.noStreamId, end.error);
      if (failures >= retries) throw this.#interrupted(INTERRUPT_REASON.retriesExhausted, end.error);
      const delayMs = backoffDelay(failures, baseMs, maxMs, random);
      failures++;
      this.#options.onInterruption?.({
        streamId,
        attempt: failures,
        delayMs,
        lastEventId: this.#cursor.last,
        receivedCharacters: this.#answer.characters,
        receivedEvents: this.#cursor.events,
        error: end.error,
      });
      await wait(delayMs, this.#stop.signal);
      this.#throwIfAborted();
      const eventsBefore = this.#cursor.events;
      end = await this.#resume(streamId);
      // Progress renews the budget: a flaky network that keeps delivering must still finish.
      if (this.#cursor.events > eventsBefore) failures = 0;
    }
  }

  async #post(): Promise<ConnectionEnd> {
    if (this.#options.transport === "websocket") return this.#postSocket();
    const controller = this.#open();
    let response: Response;
    this.#awaitingHeaders = true;
    try {
      response = await this.#fetch(this.#options.url, {
        method: "POST",
        headers: postHeaders(this.#options.headers),
        body: JSON.stringify({ ...this.#options.body, stream: true }),
        signal: controller.signal,
      });
    } catch (error) {
      this.#headersAfterAbort?.();
      this.#throwIfAborted();
      return broken(error);
    } finally {
      this.#awaitingHeaders = false;
    }
    this.#streamId = response.headers.get(CLIENT_HEADER.streamId);
    this.#token = response.headers.get(CLIENT_HEADER.resumeToken);
    if (this.#aborted) {
      this.#headersAfterAbort?.();
      this.#throwIfAborted();
    }
    // A JSON answer to a streaming request is an error body (or a server that ignored `stream`).
    if (!response.ok || isJsonResponse(response)) throw await httpError(response);
    return this.#read(response, controller);
  }

  async #resume(streamId: string): Promise<ConnectionEnd> {
    if (this.#options.transport === "websocket") return this.#resumeSocket(streamId);
    const controller = this.#open();
    const headers = followUpHeaders(this.#options.headers, MEDIA_TYPE.eventStream);
    // No cursor means "from the start", which is what a client that saw no event needs.
    if (this.#cursor.last > 0) headers.set(CLIENT_HEADER.lastEventId, String(this.#cursor.last));
    let response: Response;
    try {
      response = await this.#fetch(streamUrl(this.#options.url, streamId, this.#token), {
        method: "GET",
        headers,
        signal: controller.signal,
      });
    } catch (error) {
      this.#throwIfAborted();
      return broken(error);
    }
    this.#throwIfAborted();
    if (response.status === 404 || response.status === 400) {
      discardBody(response);
      const reason = response.status === 404 ? INTERRUPT_REASON.notFound : INTERRUPT_REASON.badCursor;
      throw this.#interrupted(reason, undefined);
    }
    if (!response.ok) {
      discardBody(response);
      return broken(new Error(`Resume answered HTTP ${response.status}`));
    }
    this.#resumes++;
    this.#cursor.resumed();
    this.#options.onResume?.({ streamId, lastEventId: this.#cursor.last, resumes: this.#resumes });
    return this.#read(response, controller);
  }

  /** `chat.create` on a new socket: the socket's `stream.started` stands in for the POST's headers. */
  async #postSocket(): Promise<ConnectionEnd> {
    const controller = this.#open();
    this.#awaitingHeaders = true;
    try {
      return await this.#readSocket(
        { type: SOCKET_CLIENT_MESSAGE.chatCreate, body: { ...this.#options.body, stream: true } },
        {
          onStarted: (stream, token) => {
            this.#awaitingHeaders = false;
            this.#streamId = stream;
            this.#token = token;
            if (this.#aborted) this.#headersArrived();
            this.#throwIfAborted();
          },
          onResumed: () => undefined,
          onRefused: (error) => {
            throw new GatewayStreamError(error, error.status, this.#answer.partialText());
          },
        },
        controller,
      );
    } finally {
      this.#awaitingHeaders = false;
      // Aborted before the stream was named: nothing to cancel, the abort may settle.
      if (this.#aborted) this.#headersArrived();
    }
  }

  /** `stream.resume` after the last applied event, on a new socket. */
  #resumeSocket(streamId: string): Promise<ConnectionEnd> {
    const controller = this.#open();
    return this.#readSocket(
      {
        type: SOCKET_CLIENT_MESSAGE.streamResume,
        stream: streamId,
        after: this.#cursor.last,
        ...(this.#token === null ? {} : { token: this.#token }),
      },
      {
        onStarted: () => undefined,
        onResumed: () => {
          this.#resumes++;
          this.#cursor.resumed();
          this.#options.onResume?.({ streamId, lastEventId: this.#cursor.last, resumes: this.#resumes });
        },
        // A refused resume message (the socket's rate or stream limit) only ends this connection.
        onRefused: () => undefined,
      },
      controller,
    );
  }

  async #readSocket(
    opening: Record<string, unknown>,
    handlers: Pick<SocketHandlers, "onStarted" | "onResumed" | "onRefused">,
    controller: AbortController,
  ): Promise<ConnectionEnd> {
    let socket: SocketLike;
    try {
      socket = this.#connectSocket();
    } catch (error) {
      return broken(error);
    }
    return readSocket(
      socket,
      opening,
      {
        ...handlers,
        onEvent: (id, data) => void this.#apply(id, parseChunk(data), true),
        onTimings: (timings) => {
          this.#serverTimings = readTimings(timings) ?? this.#serverTimings;
        },
        onGone: (error) => {
          const reason =
            error.code === GONE_CODE.invalidCursor ? INTERRUPT_REASON.badCursor : INTERRUPT_REASON.notFound;
          throw this.#interrupted(reason, undefined);
        },
        checkAborted: () => this.#throwIfAborted(),
      },
      controller.signal,
    );
  }

  #connectSocket(): SocketLike {
    const url = this.#options.socketUrl ?? socketUrl(this.#options.url, bearerOf(this.#options.headers));
    const factory: SocketFactory = this.#options.webSocket ?? defaultSocket;
    return factory(url);
  }

  /** The abort is waiting for the stream's id; it has come (or will not): cancel once, then settle. */
  #headersArrived(): void {
    const after = this.#headersAfterAbort;
    this.#headersAfterAbort = undefined;
    after?.();
  }

  #open(): AbortController {
    const controller = new AbortController();
    this.#connection = controller;
    return controller;
  }

  #read(response: Response, controller: AbortController): Promise<ConnectionEnd> {
    const body = response.body;
    if (body === null) return Promise.resolve(broken(new Error("The response has no body")));
    return readConnection(
      body,
      controller,
      {
        onMessage: (message) => this.#handle(message),
        onComment: (text) => this.#comment(text),
        checkAborted: () => this.#throwIfAborted(),
      },
      CLIENT_DEFAULTS.trailerWaitMs,
    );
  }

  /** Applies one SSE message; true when it was the `[DONE]` sentinel. */
  #handle(message: SseMessage): boolean {
    return this.#apply(message.id, parseData(message.data), message.event === "message");
  }

  /** Applies one event by its id (`unnamed`: an SSE message without `event:`, or a socket event). */
  #apply(id: string | undefined, parsed: ParsedData, unnamed: boolean): boolean {
    const verdict = this.#cursor.accept(id);
    if (verdict === "replayed") return false;
    if (verdict === "gap") throw this.#interrupted(INTERRUPT_REASON.gap, undefined);
    switch (parsed.kind) {
      case "done":
        return true;
      case "error":
        throw new GatewayStreamError(parsed, null, this.#answer.partialText());
      case "invalid":
        // Named events are not OpenAI chunks (a server's own pings); an unnamed one must be.
        if (!unnamed) return false;
        throw new GatewayStreamError(
          {
            message: "The stream sent an event that is not an OpenAI chunk",
            code: "invalid_chunk",
            type: null,
          },
          null,
          this.#answer.partialText(),
        );
      case "chunk":
        for (const delta of parsed.deltas) this.#emit(delta);
        if (parsed.finishReason !== null) this.#answer.finish(parsed.finishReason);
        if (parsed.usage !== null) {
          this.#answer.usage(parsed.usage);
          this.#options.onUsage?.(parsed.usage);
        }
        return false;
    }
  }

  /** Keeps the gateway's timings when the comment is them; other comments (keep-alives) say nothing. */
  #comment(text: string): void {
    this.#serverTimings = parseTimingComment(text) ?? this.#serverTimings;
  }

  #emit(delta: ChatDelta): void {
    this.#answer.add(delta);
    // Reasoning is not the answer: TTFT measures when the reader first sees answer tokens.
    if (this.#ttftMs === null && delta.type !== "reasoning") {
      this.#ttftMs = this.#now() - this.#startedAt;
      this.#options.onFirstToken?.({ ttftMs: this.#ttftMs });
    }
    this.#queue.push(delta);
  }

  #result(): ChatResult {
    const result = this.#answer.result({
      ttftMs: this.#ttftMs,
      resumes: this.#resumes,
      streamId: this.#streamId,
      events: this.#cursor.events,
      serverTimings: this.#serverTimings,
    });
    this.#options.onDone?.(result);
    return result;
  }

  async #cancelRemote(): Promise<void> {
    const streamId = this.#streamId;
    if (streamId === null) return;
    try {
      const response = await this.#fetch(streamUrl(this.#options.url, streamId, this.#token), {
        method: "DELETE",
        headers: followUpHeaders(this.#options.headers, MEDIA_TYPE.json),
      });
      discardBody(response);
    } catch {
      // Best effort: the caller already stopped reading, and the gateway's TTL ends the stream anyway.
    }
  }

  #throwIfAborted(): void {
    if (this.#aborted) throw new StreamAbortedError(this.#received());
  }

  #interrupted(reason: InterruptReason, cause: unknown): StreamInterruptedError {
    return new StreamInterruptedError(reason, this.#received(), cause);
  }

  #received(): ReceivedSoFar {
    return {
      streamId: this.#streamId,
      lastEventId: this.#cursor.last,
      receivedCharacters: this.#answer.characters,
      receivedEvents: this.#cursor.events,
      partialText: this.#answer.partialText(),
    };
  }

  #succeed(result: ChatResult): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#options.signal?.removeEventListener("abort", this.#onSignal);
    this.#queue.close();
    this.#settle.resolve(result);
  }

  #fail(error: unknown, drain: boolean): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#options.signal?.removeEventListener("abort", this.#onSignal);
    this.#queue.fail(error, drain);
    this.#settle.reject(error);
  }
}

/** The environment's own WebSocket (browsers, Node 22, workerd). */
function defaultSocket(url: string): SocketLike {
  const Socket = (globalThis as { readonly WebSocket?: new (url: string) => SocketLike }).WebSocket;
  if (Socket === undefined) throw new Error("this environment has no WebSocket; pass the webSocket option");
  return new Socket(url);
}
