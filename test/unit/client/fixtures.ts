import { readFileSync } from "node:fs";
import path from "node:path";

/** Recorded OpenAI chat streams; tests run from the project root with `shared/` beside it. */
export const OPENAI_FIXTURES = path.resolve(process.cwd(), "../shared/fixtures/upstream/openai");

/** The chat fixtures the client is tested against (Chat Completions format, ending in `[DONE]`). */
export const CHAT_FIXTURES = [
  "chat-finish-length.sse",
  "chat-json-object-181-events.sse",
  "chat-n3-interleaved-choices.sse",
  "chat-obfuscation-moderation.sse",
  "chat-parallel-tool-calls.sse",
  "chat-refusal-delta.sse",
  "chat-text-include-usage.sse",
] as const;

/** A stream as the gateway would send it: every event carries `id: N`. */
export interface NumberedStream {
  readonly bytes: Uint8Array;
  /** Byte offset just past event N's blank line is `ends[N - 1]`. */
  readonly ends: readonly number[];
}

const encoder = new TextEncoder();

/** Reads a fixture as text. */
export function readChatFixture(name: string): string {
  return readFileSync(path.join(OPENAI_FIXTURES, name), "utf8");
}

/**
 * Adds `id: N` (N = 1, 2, ...) as the last line of each event, before its blank line, in the
 * event's own line ending, as the gateway does; an unterminated last event is closed.
 */
export function numberEvents(text: string): NumberedStream {
  const pieces: string[] = [];
  const ends: number[] = [];
  let bytes = 0;
  let open = false;
  const add = (piece: string): void => {
    pieces.push(piece);
    bytes += encoder.encode(piece).length;
  };
  const lines = text.match(/[^\r\n]*(\r\n|\r|\n)|[^\r\n]+$/g) ?? [];
  for (const line of lines) {
    const newline = line.match(/(\r\n|\r|\n)$/)?.[0] ?? "";
    if (line === newline && open) {
      add(`id: ${ends.length + 1}${newline}`);
      add(line);
      ends.push(bytes);
      open = false;
      continue;
    }
    if (line !== newline) open = true;
    add(newline === "" ? `${line}\n` : line);
  }
  if (open) {
    add(`id: ${ends.length + 1}\n\n`);
    ends.push(bytes);
  }
  return { bytes: encoder.encode(pieces.join("")), ends };
}

/** Formats data payloads as a numbered SSE stream (for hand-made streams). */
export function numberedSse(payloads: readonly string[]): NumberedStream {
  return numberEvents(payloads.map((data) => `data: ${data}\n\n`).join(""));
}

/** A chat chunk with the given delta and finish reason, in OpenAI's shape. */
export function chunk(delta: Record<string, unknown>, finishReason: string | null = null): string {
  return JSON.stringify({
    id: "chatcmpl-test",
    object: "chat.completion.chunk",
    created: 1,
    model: "test-model",
    choices: [{ index: 0, delta, finish_reason: finishReason }],
  });
}

/** What an uninterrupted reader should end with, computed without the client's code. */
export interface Expected {
  readonly text: string;
  readonly refusal: string;
  readonly toolCalls: readonly { index: number; id: string | null; name: string | null; arguments: string }[];
  readonly finishReason: string | null;
  readonly events: number;
}

/** Reads a LF-separated fixture naively (split on blank lines, JSON.parse each payload). */
export function expectedAnswer(text: string): Expected {
  let answer = "";
  let refusal = "";
  let finishReason: string | null = null;
  let events = 0;
  const calls = new Map<
    number,
    { index: number; id: string | null; name: string | null; arguments: string }
  >();
  for (const block of text.split(/\n\n/)) {
    const data = block
      .split("\n")
      .filter((line) => line.startsWith("data: "))
      .map((line) => line.slice(6))
      .join("\n");
    if (block.trim() === "") continue;
    events++;
    if (data === "[DONE]") continue;
    const parsed = JSON.parse(data) as { choices: ChoiceShape[] };
    for (const choice of parsed.choices) {
      if (choice.index !== 0) continue;
      if (choice.finish_reason) finishReason = choice.finish_reason;
      answer += choice.delta.content ?? "";
      refusal += choice.delta.refusal ?? "";
      for (const call of choice.delta.tool_calls ?? []) {
        const known = calls.get(call.index) ?? { index: call.index, id: null, name: null, arguments: "" };
        known.id ??= call.id ?? null;
        known.name ??= call.function?.name ?? null;
        known.arguments += call.function?.arguments ?? "";
        calls.set(call.index, known);
      }
    }
  }
  return { text: answer, refusal, toolCalls: [...calls.values()], finishReason, events };
}

interface ChoiceShape {
  index: number;
  finish_reason: string | null;
  delta: {
    content?: string | null;
    refusal?: string | null;
    tool_calls?: { index: number; id?: string; function?: { name?: string; arguments?: string } }[];
  };
}
