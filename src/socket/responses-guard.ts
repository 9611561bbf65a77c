import type { GuardrailVerdict } from "../analytics/data-point.ts";
import { GuardrailCore, isBlock } from "../guardrail/scanner.ts";
import { summarize } from "../guardrail/stage.ts";
import type { GuardrailConfig } from "../guardrail/types.ts";
import { sseEvent } from "../sse/encode.ts";
import type { SseEvent } from "../sse/types.ts";
import type { EventInfo, WireFormat } from "../upstream/format.ts";

/** One upstream socket message as the format adapter reads it: the SSE view of the same event. */
export interface GuardedMessage {
  readonly text: string;
  readonly ev: SseEvent;
  readonly info: EventInfo;
}

/** What to send the client for what the upstream sent. */
export interface GuardOutput {
  /** Messages to send now, in order (held text may come out later, with a later message). */
  readonly send: readonly string[];
  /** A `block` rule fired: `send` ends with the filtered ending; nothing more of this response may follow. */
  readonly blocked?: string;
  /** Milliseconds text was held back by this call's releases. */
  readonly heldMs: number;
}

/** Reads one upstream message (JSON text) through `format`, as the SSE stream's event of that type. */
export function readMessage(text: string, format: WireFormat): GuardedMessage {
  let type: string | undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === "object" && parsed !== null && "type" in parsed && typeof parsed.type === "string")
      type = parsed.type;
  } catch {
    type = undefined;
  }
  const ev = sseEvent(type === undefined ? { data: text } : { event: type, data: text });
  return { text, ev, info: format.inspect(ev) };
}

/**
 * The output guardrail over one response's socket messages, with the window semantics of the SSE
 * route: in `enforce` mode a message is held only while its text could still start a match,
 * redactions are re-encoded by the format (`rewrite`), untouched messages go out as they came, and a
 * `block` ends the response with the format's filtered ending (`blockedEvents`). One guard per
 * response: the window never spans two responses.
 */
export class ResponseGuard {
  readonly #core: GuardrailCore<GuardedMessage> | undefined;
  readonly #format: WireFormat;
  #blocked = false;

  constructor(config: GuardrailConfig, format: WireFormat) {
    this.#core = config.mode === "off" ? undefined : new GuardrailCore<GuardedMessage>(config);
    this.#format = format;
  }

  /** The most severe verdict so far, for analytics. */
  get verdict(): GuardrailVerdict {
    return this.#core === undefined ? "none" : summarize(this.#core.verdicts);
  }

  /** Pushes one upstream message of this response. */
  push(message: GuardedMessage, now: number): GuardOutput {
    const core = this.#core;
    if (this.#blocked) return { send: [], heldMs: 0 };
    if (core === undefined) return { send: [message.text], heldMs: 0 };
    const releases = core.push(message, message.info.parts, now);
    for (const p of message.info.parts) if (p.final === true) releases.push(...core.close(p.channel, now));
    return this.#out(releases);
  }

  /** The response ended upstream: releases whatever was still held. */
  end(now: number): GuardOutput {
    if (this.#core === undefined || this.#blocked) return { send: [], heldMs: 0 };
    return this.#out(this.#core.end(now));
  }

  #out(releases: ReturnType<GuardrailCore<GuardedMessage>["end"]>): GuardOutput {
    const send: string[] = [];
    let heldMs = 0;
    for (const r of releases) {
      if (isBlock(r)) {
        this.#blocked = true;
        for (const ev of this.#format.blockedEvents(r.block.rule)) send.push(ev.data);
        return { send, blocked: r.block.rule, heldMs };
      }
      heldMs += r.heldFor;
      send.push(r.texts === undefined ? r.event.text : this.#format.rewrite(r.event.ev, r.texts).data);
    }
    return { send, heldMs };
  }
}
