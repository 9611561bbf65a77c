import type { GuardrailVerdict } from "../analytics/data-point.ts";
import { GatewayError } from "../errors.ts";
import type { GuardrailConfig } from "../guardrail/types.ts";
import { ERROR_CODE, STREAM_OUTCOME, type StreamOutcome } from "../protocol.ts";
import type { WireFormat } from "../upstream/format.ts";
import { exceedsBytes } from "./messages.ts";
import { CLOSE_CODE } from "./protocol.ts";
import { ResponseGuard, readMessage } from "./responses-guard.ts";

/** The upstream socket, once open. */
export interface UpstreamSocket {
  send(text: string): void;
  close(): void;
}

/** What one response's timings were, for its analytics data point. */
export interface ResponseTimings {
  readonly model: string;
  readonly receivedAt: number;
  readonly sentAt: number;
  readonly firstContentAt: number | undefined;
  readonly endedAt: number;
  readonly holdbackMs: number;
  readonly contentEvents: number;
  readonly outcome: StreamOutcome;
  readonly guardrail: GuardrailVerdict;
}

/** The relay's edges: the client socket, the upstream socket (opened on demand), the prompt guard, analytics. */
export interface ResponsesPorts {
  sendClient(text: string): void;
  closeClient(code: number, reason: string): void;
  /** Opens the upstream socket with the provider's key; throws a GatewayError when it cannot. */
  openUpstream(onMessage: (text: string) => void, onClose: () => void): Promise<UpstreamSocket>;
  /** The prompt guard on a `response.create` body, in place; throws a GatewayError on a block. */
  guardPrompt(body: Record<string, unknown>): { readonly changed: boolean };
  record(timings: ResponseTimings): void;
  now(): number;
}

interface Turn {
  readonly model: string;
  readonly receivedAt: number;
  readonly sentAt: number;
  readonly guard: ResponseGuard;
  firstContentAt: number | undefined;
  holdbackMs: number;
  contentEvents: number;
  blocked: boolean;
}

/** OpenAI's WebSocket error event (`type: "error"`, the HTTP status, the error fields). */
function errorEvent(status: number, code: string, message: string): string {
  const type =
    status >= 500 ? "server_error" : status === 401 ? "authentication_error" : "invalid_request_error";
  return JSON.stringify({ type: "error", status, error: { type, code, message, param: null } });
}

/**
 * One client socket of the Responses WebSocket passthrough: relays client events to one upstream
 * socket (opened on the first `response.create` and kept, so `previous_response_id` continues on
 * the connection that holds the state) and the upstream's events back through the output guardrail.
 * Responses run one at a time on a socket, so each upstream event belongs to the oldest open turn.
 */
export class ResponsesRelay {
  readonly #ports: ResponsesPorts;
  readonly #format: WireFormat;
  readonly #guardrail: GuardrailConfig;
  readonly #maxMessageBytes: number;
  #upstream: Promise<UpstreamSocket> | undefined;
  readonly #turns: Turn[] = [];
  #closed = false;

  constructor(
    ports: ResponsesPorts,
    format: WireFormat,
    guardrail: GuardrailConfig,
    maxMessageBytes: number,
  ) {
    this.#ports = ports;
    this.#format = format;
    this.#guardrail = guardrail;
    this.#maxMessageBytes = maxMessageBytes;
  }

  /** One frame from the client. */
  fromClient(data: string | ArrayBuffer | ArrayBufferView): void {
    if (this.#closed) return;
    if (typeof data !== "string") {
      this.#refuse(400, "binary_message", "binary frames are not accepted; send JSON text");
      return;
    }
    if (exceedsBytes(data, this.#maxMessageBytes)) {
      this.#refuse(
        400,
        "message_too_large",
        `message is larger than ${this.#maxMessageBytes} bytes (WS_MAX_MESSAGE_BYTES)`,
      );
      return;
    }
    let json: unknown;
    try {
      json = JSON.parse(data);
    } catch {
      this.#refuse(400, "invalid_message", "message is not valid JSON");
      return;
    }
    if (typeof json !== "object" || json === null || Array.isArray(json)) {
      this.#refuse(400, "invalid_message", "message must be a JSON object");
      return;
    }
    const event = json as Record<string, unknown>;
    if (event.type !== "response.create") {
      if (this.#upstream === undefined) {
        this.#refuse(400, "invalid_message", "send response.create first: it opens the upstream connection");
        return;
      }
      void this.#send(data);
      return;
    }
    let text = data;
    try {
      if (this.#ports.guardPrompt(event).changed) text = JSON.stringify(event);
    } catch (err) {
      const e =
        err instanceof GatewayError
          ? err
          : new GatewayError(500, ERROR_CODE.internal, "internal gateway error");
      this.#refuse(e.status, e.code, e.message);
      return;
    }
    const now = this.#ports.now();
    this.#turns.push({
      model: typeof event.model === "string" ? event.model.slice(0, 100) : "",
      receivedAt: now,
      sentAt: now,
      guard: new ResponseGuard(this.#guardrail, this.#format),
      firstContentAt: undefined,
      holdbackMs: 0,
      contentEvents: 0,
      blocked: false,
    });
    void this.#send(text);
  }

  /** The client went away: the upstream socket is closed with it. */
  clientClosed(): void {
    this.#closed = true;
    void this.#upstream?.then(
      (u) => u.close(),
      () => undefined,
    );
  }

  async #send(text: string): Promise<void> {
    if (this.#upstream === undefined) {
      this.#upstream = this.#ports.openUpstream(
        (t) => this.#fromUpstream(t),
        () => this.#upstreamClosed(),
      );
    }
    let upstream: UpstreamSocket;
    try {
      upstream = await this.#upstream;
    } catch (err) {
      const e =
        err instanceof GatewayError
          ? err
          : new GatewayError(502, ERROR_CODE.upstreamUnreachable, "the upstream socket could not be opened");
      this.#turns.length = 0;
      this.#upstream = undefined;
      this.#refuse(e.status, e.code, e.message);
      return;
    }
    upstream.send(text);
  }

  #fromUpstream(text: string): void {
    if (this.#closed) return;
    const now = this.#ports.now();
    const message = readMessage(text, this.#format);
    const turn = this.#turns[0];
    if (turn === undefined) {
      this.#ports.sendClient(text);
      return;
    }
    if (message.info.parts.length > 0) {
      turn.firstContentAt ??= now;
      turn.contentEvents++;
    }
    const out = turn.guard.push(message, now);
    const ends = message.info.endOfStream === true || message.info.signal === "error";
    const tail = ends ? turn.guard.end(now) : { send: [], heldMs: 0 };
    for (const m of [...out.send, ...tail.send]) this.#ports.sendClient(m);
    turn.holdbackMs += out.heldMs + tail.heldMs;
    if (out.blocked !== undefined) turn.blocked = true;
    if (!ends) return;
    this.#turns.shift();
    const outcome = turn.blocked
      ? STREAM_OUTCOME.blocked
      : message.info.signal === "error"
        ? STREAM_OUTCOME.interrupted
        : STREAM_OUTCOME.complete;
    this.#record(turn, now, outcome);
  }

  #upstreamClosed(): void {
    if (this.#closed) return;
    this.#closed = true;
    const now = this.#ports.now();
    const open = this.#turns.splice(0);
    // What the guard still held is the end of what the upstream sent: scanned as final, then released,
    // as the SSE route does when an upstream stops.
    for (const m of open[0]?.guard.end(now).send ?? []) this.#ports.sendClient(m);
    // Never a silent end: a response cut short gets OpenAI's error event before the close.
    if (open.length > 0)
      this.#ports.sendClient(
        errorEvent(
          502,
          ERROR_CODE.upstreamInterrupted,
          "the upstream connection closed before the response completed",
        ),
      );
    for (const turn of open) this.#record(turn, now, STREAM_OUTCOME.interrupted);
    this.#ports.closeClient(CLOSE_CODE.internalError, "upstream connection closed");
  }

  #record(turn: Turn, now: number, outcome: StreamOutcome): void {
    this.#ports.record({
      model: turn.model,
      receivedAt: turn.receivedAt,
      sentAt: turn.sentAt,
      firstContentAt: turn.firstContentAt,
      endedAt: now,
      holdbackMs: turn.holdbackMs,
      contentEvents: turn.contentEvents,
      outcome,
      guardrail: turn.guard.verdict,
    });
  }

  #refuse(status: number, code: string, message: string): void {
    this.#ports.sendClient(errorEvent(status, code, message));
  }
}
