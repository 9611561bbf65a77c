import { ERROR_CODE, type ErrorCode } from "../../protocol.ts";
import type { SseEvent } from "../../sse/types.ts";
import { isObject, tryParse } from "../json.ts";
import type { ChatChunk, ChatUsage } from "../openai-chat/types.ts";
import type { ChunkIdentity, StreamTranslator, TranslateStep } from "../translator.ts";
import {
  describeError,
  mapFinishReason,
  readBlockReason,
  readCandidates,
  readError,
  readStrayError,
  toChatUsage,
  toolCallIdBase,
} from "./wire.ts";

type Choice = ChatChunk["choices"][number];

/** What the translator remembers about one candidate (one OpenAI choice). */
interface CandidateState {
  /** Function calls emitted so far: the next call's tool index, and whether STOP means `tool_calls`. */
  calls: number;
  /** Gemini's finish reason, as last reported (Vertex repeats it on every chunk). */
  finish: string | undefined;
}

/**
 * Gemini stream → OpenAI chunks. Text parts become `delta.content`, `thought` parts
 * `delta.reasoning_content`, and each function call one complete `tool_calls` delta (Gemini sends
 * arguments whole). Finish reasons are held until the upstream closes: Gemini has no end sentinel,
 * Vertex repeats `finishReason` on every chunk, and an error can still follow a finish (see
 * `stream-error-mid-stream.sse`), so only a clean close after a finish reason yields `done`.
 */
export class GeminiStreamTranslator implements StreamTranslator {
  readonly #identity: ChunkIdentity;
  readonly #candidates = new Map<number, CandidateState>();
  readonly #callIdBase: string;
  #callSeq = 0;
  #promptBlocked = false;
  #ended = false;
  #usage: ChatUsage | undefined;
  malformed = 0;

  constructor(identity: ChunkIdentity) {
    this.#identity = identity;
    this.#callIdBase = toolCallIdBase(identity.id);
  }

  /** Exact usage from the last `usageMetadata` seen (Gemini sends running totals). */
  get usage(): ChatUsage | undefined {
    return this.#usage;
  }

  push(ev: SseEvent): TranslateStep[] {
    if (this.#ended) return [];
    if (!ev.hasData) {
      // A bare JSON error written into the stream (not SSE-framed): the client would never see it.
      const stray = readStrayError(ev.strayLines);
      return stray === undefined
        ? []
        : this.#fail(ERROR_CODE.upstreamError, `Gemini error ${describeError(stray)}`);
    }
    const chunk = tryParse(ev.data);
    if (!isObject(chunk)) {
      // A whole event that is not JSON (a rewritten body) is skipped and counted, never forwarded.
      if (ev.terminated) {
        this.malformed++;
        return [];
      }
      return this.#fail(ERROR_CODE.upstreamInterrupted, "the Gemini stream ended in the middle of an event");
    }
    const error = readError(chunk);
    if (error !== undefined)
      return this.#fail(ERROR_CODE.upstreamError, `Gemini error ${describeError(error)}`);

    const steps: TranslateStep[] = [];
    this.#usage = toChatUsage(chunk) ?? this.#usage;
    if (readBlockReason(chunk) !== undefined) {
      // The prompt was refused: no candidate follows, the answer is an empty content-filtered choice.
      this.#promptBlocked = true;
      this.#open(0, steps);
    }
    for (const candidate of readCandidates(chunk)) {
      const state = this.#open(candidate.index, steps);
      for (const part of candidate.parts) {
        if (part.kind === "call") {
          const toolCall = {
            index: state.calls,
            id: `${this.#callIdBase}_${this.#callSeq++}`,
            type: "function" as const,
            function: { name: part.name, arguments: JSON.stringify(part.args) },
          };
          state.calls++;
          steps.push(
            this.#chunk([{ index: candidate.index, delta: { tool_calls: [toolCall] }, finish_reason: null }]),
          );
        } else if (part.text !== "") {
          const delta = part.thought ? { reasoning_content: part.text } : { content: part.text };
          steps.push(this.#chunk([{ index: candidate.index, delta, finish_reason: null }]));
        }
      }
      if (candidate.finishReason !== undefined) state.finish = candidate.finishReason;
    }
    return steps;
  }

  end(cleanEof: boolean): TranslateStep[] {
    if (this.#ended) return [];
    if (!cleanEof) {
      return this.#fail(
        ERROR_CODE.upstreamInterrupted,
        "the Gemini stream failed before the response was complete",
      );
    }
    const states = [...this.#candidates.entries()].sort(([a], [b]) => a - b);
    if (!this.#promptBlocked && !states.some(([, s]) => s.finish !== undefined)) {
      return this.#fail(ERROR_CODE.upstreamInterrupted, "the Gemini stream ended without a finish reason");
    }
    this.#ended = true;
    const finishes: Choice[] = states.map(([index, s]) => ({
      index,
      delta: {},
      finish_reason:
        s.finish === undefined && this.#promptBlocked
          ? "content_filter"
          : mapFinishReason(s.finish ?? "STOP", s.calls > 0),
    }));
    const steps: TranslateStep[] = [this.#chunk(finishes)];
    if (this.#identity.includeUsage && this.#usage !== undefined) steps.push(this.#chunk([], this.#usage));
    steps.push({ kind: "done" });
    return steps;
  }

  /** The state of candidate `index`, sending OpenAI's role chunk the first time it appears. */
  #open(index: number, steps: TranslateStep[]): CandidateState {
    let state = this.#candidates.get(index);
    if (state === undefined) {
      state = { calls: 0, finish: undefined };
      this.#candidates.set(index, state);
      steps.push(this.#chunk([{ index, delta: { role: "assistant", content: "" }, finish_reason: null }]));
    }
    return state;
  }

  #fail(code: ErrorCode, message: string): TranslateStep[] {
    this.#ended = true;
    return [{ kind: "error", error: { code, message } }];
  }

  #chunk(choices: Choice[], usage?: ChatUsage): TranslateStep {
    const { id, created, model } = this.#identity;
    const chunk: ChatChunk = {
      id,
      object: "chat.completion.chunk",
      created,
      model,
      choices,
      ...(usage === undefined ? {} : { usage }),
    };
    return { kind: "chunk", chunk };
  }
}
