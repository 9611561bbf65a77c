import type { SseEvent } from "../sse/types.ts";
import { arr, isObject, type JsonObject, num, obj, str, tryParse } from "../upstream/json.ts";
import type { UiChunk, UiFinishReason, UiMessageMetadata, UiUsage } from "./chunks.ts";
import { ToolCalls } from "./tool-calls.ts";

/** OpenAI finish reasons in the protocol's terms; anything else is `other`. */
const FINISH: Readonly<Record<string, UiFinishReason>> = {
  stop: "stop",
  length: "length",
  content_filter: "content-filter",
  tool_calls: "tool-calls",
  function_call: "tool-calls",
};

/** The client sees this when the stream it reads ends without an end or an error (never a clean end). */
export const CUT_SHORT = "the answer ended before it was complete";

/** What one event of the gateway's own stream becomes. */
export interface UiStep {
  readonly chunks: readonly UiChunk[];
  /** The answer really finished: `data: [DONE]` follows the chunks. */
  readonly done: boolean;
}

const NOTHING: UiStep = { chunks: [], done: false };

type Channel = "text" | "reasoning";

/**
 * Per-stream state machine from the gateway's OpenAI-chunk stream (what `/v1/chat/completions`
 * sends: chunks, in-band `{"error":…}` events, `[DONE]` only after a real finish) to UI message
 * stream chunks. It is deterministic: the same events give the same chunks, so a replayed stream
 * (a resume, from the start) rebuilds exactly the message the first reader saw.
 */
export class UiStreamTranslator {
  #started = false;
  #ended = false;
  /** The text or reasoning part open now, and how many parts have been opened (their ids). */
  #channel: { readonly kind: Channel; readonly id: string } | undefined;
  #parts = 0;
  readonly #calls = new ToolCalls();
  #finishReason: UiFinishReason | undefined;
  #usage: UiUsage | undefined;
  #guardrail: string | undefined;

  /** True once the stream ended (finished or failed): nothing after that belongs to the answer. */
  get ended(): boolean {
    return this.#ended;
  }

  /** The chunks for one event of the gateway's stream. */
  push(ev: SseEvent): UiStep {
    if (this.#ended || !ev.hasData) return NOTHING;
    if (ev.data === "[DONE]") return { chunks: this.#finish(), done: true };
    const chunk = tryParse(ev.data);
    if (!isObject(chunk)) return NOTHING;
    const error = chunk.error;
    if (ev.event === "error" || error !== undefined) {
      const message = isObject(error) ? str(error, "message") : typeof error === "string" ? error : undefined;
      return { chunks: this.#fail(message ?? "upstream error"), done: false };
    }
    const out = this.#begin(chunk);
    this.#read(chunk, out);
    return { chunks: out, done: false };
  }

  /**
   * The stream closed. After neither an end nor an error it was cut short: the client gets an error,
   * so a truncated answer never looks complete.
   */
  end(): UiChunk[] {
    return this.#ended ? [] : this.#fail(CUT_SHORT);
  }

  #begin(chunk: JsonObject): UiChunk[] {
    if (this.#started) return [];
    this.#started = true;
    // The first chunk's id names the answer: stored with the stream, so a replay names it alike.
    const id = str(chunk, "id");
    return [id === undefined ? { type: "start" } : { type: "start", messageId: id }, { type: "start-step" }];
  }

  #read(chunk: JsonObject, out: UiChunk[]): void {
    const usage = obj(chunk, "usage");
    if (usage !== undefined) this.#usage = usageOf(usage) ?? this.#usage;
    const guardrail = obj(chunk, "guardrail");
    if (guardrail !== undefined) this.#guardrail = str(guardrail, "rule");
    for (const choice of arr(chunk, "choices")) {
      // useChat shows one message: the first choice is the answer (the route never asks for `n`).
      if (!isObject(choice) || (num(choice, "index") ?? 0) !== 0) continue;
      const delta = obj(choice, "delta");
      if (delta !== undefined) this.#delta(delta, out);
      const reason = str(choice, "finish_reason");
      if (reason !== undefined) {
        this.#finishReason = FINISH[reason] ?? "other";
        out.push(...this.#closeChannel(), ...this.#calls.close());
      }
    }
  }

  #delta(delta: JsonObject, out: UiChunk[]): void {
    // Servers name reasoning `reasoning_content` (the gateway's translators, DeepSeek, vLLM) or `reasoning`.
    const reasoning = str(delta, "reasoning_content") || str(delta, "reasoning");
    if (reasoning) this.#text("reasoning", reasoning, out);
    const text = str(delta, "content") || str(delta, "refusal");
    if (text) this.#text("text", text, out);
    const calls = arr(delta, "tool_calls");
    if (calls.length > 0) out.push(...this.#calls.push(calls, () => this.#closeChannel()));
  }

  #text(kind: Channel, delta: string, out: UiChunk[]): void {
    if (this.#channel?.kind !== kind) {
      out.push(...this.#closeChannel());
      const id = `${kind}-${this.#parts++}`;
      this.#channel = { kind, id };
      out.push({ type: kind === "text" ? "text-start" : "reasoning-start", id });
    }
    const id = this.#channel.id;
    out.push({ type: kind === "text" ? "text-delta" : "reasoning-delta", id, delta });
  }

  #closeChannel(): UiChunk[] {
    const open = this.#channel;
    if (open === undefined) return [];
    this.#channel = undefined;
    return [{ type: open.kind === "text" ? "text-end" : "reasoning-end", id: open.id }];
  }

  #finish(): UiChunk[] {
    const out = [...this.#begin({}), ...this.#closeChannel(), ...this.#calls.close()];
    this.#ended = true;
    const metadata: UiMessageMetadata = {
      ...(this.#usage === undefined ? {} : { usage: this.#usage }),
      ...(this.#guardrail === undefined ? {} : { guardrail: this.#guardrail }),
    };
    out.push(
      { type: "finish-step" },
      {
        type: "finish",
        ...(this.#finishReason === undefined ? {} : { finishReason: this.#finishReason }),
        messageMetadata: metadata,
      },
    );
    return out;
  }

  /** An error ends the answer: open parts stay as they are (the protocol's error chunk says why). */
  #fail(message: string): UiChunk[] {
    const out = this.#begin({});
    this.#ended = true;
    out.push({ type: "error", errorText: message });
    return out;
  }
}

function usageOf(usage: JsonObject): UiUsage | undefined {
  const input = num(usage, "prompt_tokens");
  const output = num(usage, "completion_tokens");
  if (input === undefined || output === undefined) return undefined;
  return {
    inputTokens: input,
    outputTokens: output,
    totalTokens: num(usage, "total_tokens") ?? input + output,
  };
}
