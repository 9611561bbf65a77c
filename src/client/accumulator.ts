import { CONTENT_FILTER_REASON } from "./protocol.ts";
import type { ChatDelta, ChatResult, ChatUsage, ServerTimings, ToolCall } from "./types.ts";

interface ToolCallParts {
  id: string | null;
  name: string | null;
  readonly args: string[];
}

/** The part of a result the stream runner knows and the accumulator does not. */
export interface RunFacts {
  readonly ttftMs: number | null;
  readonly resumes: number;
  readonly streamId: string | null;
  readonly events: number;
  readonly serverTimings: ServerTimings | null;
}

/**
 * Collects deltas into the final answer. Pieces are kept in arrays and joined once at the end, so
 * the work per delta stays constant however long the answer grows.
 */
export class ChatAccumulator {
  readonly #text: string[] = [];
  readonly #reasoning: string[] = [];
  readonly #refusal: string[] = [];
  readonly #toolCalls = new Map<number, ToolCallParts>();
  #characters = 0;
  #finishReason: string | null = null;
  #usage: ChatUsage | null = null;

  /** Characters (code points) received across all deltas, for "how much arrived" messages. */
  get characters(): number {
    return this.#characters;
  }

  /** Adds one delta. */
  add(delta: ChatDelta): void {
    if (delta.type === "tool_call") {
      this.#addToolCall(delta.index, delta.id, delta.name, delta.arguments);
      this.#characters += countCodePoints(delta.arguments);
      return;
    }
    const parts =
      delta.type === "text" ? this.#text : delta.type === "reasoning" ? this.#reasoning : this.#refusal;
    parts.push(delta.text);
    this.#characters += countCodePoints(delta.text);
  }

  /** Records the finish reason of choice 0 (the last one sent wins). */
  finish(reason: string): void {
    this.#finishReason = reason;
  }

  /** Records the usage object. */
  usage(usage: ChatUsage): void {
    this.#usage = usage;
  }

  /** The text received so far, for error reports that show a partial answer as partial. */
  partialText(): string {
    return this.#text.join("");
  }

  /** The complete result; call only after `[DONE]`. */
  result(facts: RunFacts): ChatResult {
    const toolCalls: ToolCall[] = [...this.#toolCalls.entries()]
      .sort(([a], [b]) => a - b)
      .map(([index, parts]) => ({ index, id: parts.id, name: parts.name, arguments: parts.args.join("") }));
    return {
      text: this.#text.join(""),
      reasoning: this.#reasoning.join(""),
      refusal: this.#refusal.join(""),
      toolCalls,
      finishReason: this.#finishReason,
      filtered: this.#finishReason === CONTENT_FILTER_REASON,
      usage: this.#usage,
      ...facts,
    };
  }

  #addToolCall(index: number, id: string | undefined, name: string | undefined, args: string): void {
    let parts = this.#toolCalls.get(index);
    if (parts === undefined) {
      parts = { id: null, name: null, args: [] };
      this.#toolCalls.set(index, parts);
    }
    // OpenAI sends id and name once, on the first fragment; keep the first if a server repeats them.
    if (id !== undefined && parts.id === null) parts.id = id;
    if (name !== undefined && parts.name === null) parts.name = name;
    if (args !== "") parts.args.push(args);
  }
}

// Code points, not UTF-16 units: an emoji is one character to the person reading the message.
function countCodePoints(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}
