import { ERROR_CODE, type ErrorCode } from "../../protocol.ts";
import type { SseEvent } from "../../sse/types.ts";
import { arr, isObject, type JsonObject, num, obj, str, tryParse } from "../json.ts";
import type { ChatChunk, ChatToolCallDelta, ChatUsage } from "../openai-chat/types.ts";
import type { ChunkIdentity, StreamTranslator, TranslateStep } from "../translator.ts";
import {
  DONE,
  mapFinishReason,
  readErrorMessage,
  readFinishReason,
  readUsage,
  toolCallIdBase,
} from "./wire.ts";

type Delta = ChatChunk["choices"][number]["delta"];

/**
 * Workers AI stream → OpenAI chunks. Native `response` text and OpenAI-shaped `choices[0].delta`
 * text both become `delta.content`; tool calls arrive either whole or as OpenAI-style fragments keyed
 * by `index`. `[DONE]` is the only proof of a normal end.
 */
export class WorkersAiStreamTranslator implements StreamTranslator {
  readonly #identity: ChunkIdentity;
  /** Upstream tool-call index → the OpenAI index we gave it. */
  readonly #calls = new Map<number, number>();
  #lastCall: number | undefined;
  #nextCall = 0;
  #started = false;
  #ended = false;
  #finish: string | undefined;
  #usage: ChatUsage | undefined;
  malformed = 0;

  constructor(identity: ChunkIdentity) {
    this.#identity = identity;
  }

  /** Exact usage from the usage chunk Workers AI sends before `[DONE]`. */
  get usage(): ChatUsage | undefined {
    return this.#usage;
  }

  push(ev: SseEvent): TranslateStep[] {
    if (this.#ended || !ev.hasData) return [];
    const steps: TranslateStep[] = [];
    if (!this.#started) {
      this.#started = true;
      steps.push(this.#chunk({ role: "assistant", content: "" }));
    }
    if (ev.data === DONE) return [...steps, ...this.#finishSteps()];
    const chunk = tryParse(ev.data);
    if (!isObject(chunk)) {
      // An unterminated last block is one the body was cut in the middle of, not a bad event.
      // A whole event that is not JSON (a rewritten body) is skipped and counted, never forwarded.
      if (ev.terminated) {
        this.malformed++;
        return steps;
      }
      return [
        ...steps,
        ...this.#fail(
          ERROR_CODE.upstreamInterrupted,
          "the Workers AI stream ended in the middle of an event",
        ),
      ];
    }
    const errorMessage = readErrorMessage(chunk);
    if (errorMessage !== undefined) {
      return [...steps, ...this.#fail(ERROR_CODE.upstreamError, `Workers AI error: ${errorMessage}`)];
    }

    this.#usage = readUsage(chunk) ?? this.#usage;
    this.#finish = readFinishReason(chunk) ?? this.#finish;
    const response = str(chunk, "response");
    if (response) steps.push(this.#chunk({ content: response }));
    this.#pushToolCalls(arr(chunk, "tool_calls"), steps);
    const first = arr(chunk, "choices")[0];
    const delta = isObject(first) ? obj(first, "delta") : undefined;
    if (delta !== undefined) {
      const reasoning = str(delta, "reasoning_content") ?? str(delta, "reasoning");
      if (reasoning) steps.push(this.#chunk({ reasoning_content: reasoning }));
      const content = str(delta, "content");
      if (content) steps.push(this.#chunk({ content }));
      this.#pushToolCalls(arr(delta, "tool_calls"), steps);
    }
    return steps;
  }

  end(cleanEof: boolean): TranslateStep[] {
    if (this.#ended) return [];
    return this.#fail(
      ERROR_CODE.upstreamInterrupted,
      cleanEof
        ? "the Workers AI stream ended without [DONE]"
        : "the Workers AI stream failed before the response was complete",
    );
  }

  /**
   * Tool calls, in either shape: whole (`{name, arguments}`) or OpenAI fragments (`{index, id,
   * function:{name, arguments}}`, then `{index, function:{arguments}}`). A trailing all-null
   * fragment that some models send to close a call carries nothing and is skipped.
   */
  #pushToolCalls(calls: readonly unknown[], steps: TranslateStep[]): void {
    for (const call of calls) {
      if (!isObject(call)) continue;
      const fn = obj(call, "function") ?? call;
      const name = str(fn, "name");
      const args = argumentsText(fn);
      const upstreamIndex = num(call, "index");
      const known = upstreamIndex === undefined ? undefined : this.#calls.get(upstreamIndex);
      // Without an upstream index, a named call is a new one and a nameless fragment continues the last.
      const continues =
        known ?? (upstreamIndex === undefined && name === undefined ? this.#lastCall : undefined);
      if (continues !== undefined) {
        if (args)
          steps.push(this.#chunk({ tool_calls: [{ index: continues, function: { arguments: args } }] }));
        continue;
      }
      if (name === undefined && str(call, "id") === undefined && !args) continue;
      const index = this.#nextCall++;
      if (upstreamIndex !== undefined) this.#calls.set(upstreamIndex, index);
      this.#lastCall = index;
      const id = str(call, "id") || `${toolCallIdBase(this.#identity.id)}_${index}`;
      const delta: ChatToolCallDelta = {
        index,
        id,
        type: "function",
        function: { name: name ?? "", arguments: args },
      };
      steps.push(this.#chunk({ tool_calls: [delta] }));
    }
  }

  #finishSteps(): TranslateStep[] {
    this.#ended = true;
    const finish_reason = mapFinishReason(this.#finish, this.#lastCall !== undefined);
    const steps: TranslateStep[] = [
      { kind: "chunk", chunk: { ...this.#base(), choices: [{ index: 0, delta: {}, finish_reason }] } },
    ];
    if (this.#identity.includeUsage && this.#usage !== undefined) {
      steps.push({ kind: "chunk", chunk: { ...this.#base(), choices: [], usage: this.#usage } });
    }
    steps.push({ kind: "done" });
    return steps;
  }

  #fail(code: ErrorCode, message: string): TranslateStep[] {
    this.#ended = true;
    return [{ kind: "error", error: { code, message } }];
  }

  #base(): Omit<ChatChunk, "choices"> {
    const { id, created, model } = this.#identity;
    return { id, object: "chat.completion.chunk", created, model };
  }

  #chunk(delta: Delta): TranslateStep {
    return { kind: "chunk", chunk: { ...this.#base(), choices: [{ index: 0, delta, finish_reason: null }] } };
  }
}

/** Arguments as a JSON string: fragments are strings already; whole calls may carry an object. */
function argumentsText(fn: JsonObject): string {
  const args = fn.arguments;
  if (typeof args === "string") return args;
  return isObject(args) ? JSON.stringify(args) : "";
}
