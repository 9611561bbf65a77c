import { SseDecoder } from "../../../../src/sse/decoder.ts";
import type { SseEvent } from "../../../../src/sse/types.ts";
import type { ChatFinishReason, ChatUsage } from "../../../../src/upstream/openai-chat/types.ts";
import type { ChunkIdentity, TranslateStep } from "../../../../src/upstream/translator.ts";
import { decodedText, readFixture } from "../../../support/fixtures.ts";

/** The Anthropic fixtures, relative to the shared fixture root. */
export const ANTHROPIC_FIXTURES = [
  "anthropic/messages-text-ping-minimal.sse",
  "anthropic/messages-thinking-then-text-118-events.sse",
  "anthropic/messages-tool-use-input-json-delta.sse",
  "anthropic/messages-max-tokens-truncated-tool-input.sse",
  "anthropic/messages-code-execution-emoji-split.sse",
] as const;

/** A chunk identity for tests. */
export function identity(includeUsage: boolean): ChunkIdentity {
  return { id: "chatcmpl-test", created: 1_700_000_000, model: "anthropic/claude-test", includeUsage };
}

/** Synchronously decodes SSE text with the real decoder (pushed whole, then ended). */
export function decodeText(text: string): SseEvent[] {
  const decoder = new SseDecoder();
  return [...decoder.push(text), ...decoder.end()];
}

/** One raw fixture event as the test reads it, independently of the gateway's decoder. */
export interface RawEvent {
  readonly event: string;
  readonly json: Record<string, unknown>;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * A deliberately naive reading of a fixture (LF only, one `event:` and one `data:` line per block),
 * used to compute expectations without going through any code under test.
 */
export function rawEvents(name: string): RawEvent[] {
  const out: RawEvent[] = [];
  for (const block of decodedText(readFixture(name)).split("\n\n")) {
    const event = /^event: (.*)$/m.exec(block)?.[1];
    const data = /^data: (.*)$/m.exec(block)?.[1];
    if (event === undefined || data === undefined) continue;
    const json: unknown = JSON.parse(data);
    if (!isObject(json)) throw new Error(`fixture ${name}: data is not an object`);
    out.push({ event, json });
  }
  return out;
}

function obj(v: unknown): Record<string, unknown> {
  return isObject(v) ? v : {};
}

function str(v: unknown): string {
  return typeof v === "string" ? v : "";
}

/** Finish reason mapping as the spec of this adapter states it (kept separate from the code under test). */
const EXPECTED_FINISH: Record<string, ChatFinishReason> = {
  end_turn: "stop",
  stop_sequence: "stop",
  pause_turn: "stop",
  max_tokens: "length",
  tool_use: "tool_calls",
  refusal: "content_filter",
};

/** What a whole Anthropic stream says, in OpenAI terms. */
export interface StreamSummary {
  readonly content: string;
  readonly reasoning: string;
  readonly toolCalls: readonly { readonly id: string; readonly name: string; readonly arguments: string }[];
  readonly finishReason: ChatFinishReason | undefined;
  readonly usage: ChatUsage | undefined;
  /** Text per `b<index>/<kind>` channel, for the passthrough format. */
  readonly channels: ReadonlyMap<string, string>;
  readonly rawStopReason: string | undefined;
  readonly inputTokens: number | undefined;
  readonly outputTokens: number | undefined;
  readonly hasMessageStop: boolean;
}

/** Computes what the fixture's raw JSON says, straight from the payloads. */
export function expectedSummary(name: string): StreamSummary {
  let content = "";
  let reasoning = "";
  const tools = new Map<number, { id: string; name: string; arguments: string }>();
  const channels = new Map<string, string>();
  let rawStopReason: string | undefined;
  let input: number | undefined;
  let cacheCreation = 0;
  let cacheRead = 0;
  let output: number | undefined;
  let hasMessageStop = false;
  const readUsage = (u: Record<string, unknown>): void => {
    // Anthropic's counts are cumulative: the latest value of each field wins.
    if (typeof u.input_tokens === "number") input = u.input_tokens;
    if (typeof u.cache_creation_input_tokens === "number") cacheCreation = u.cache_creation_input_tokens;
    if (typeof u.cache_read_input_tokens === "number") cacheRead = u.cache_read_input_tokens;
    if (typeof u.output_tokens === "number") output = u.output_tokens;
  };
  for (const { event, json } of rawEvents(name)) {
    if (event === "message_start") readUsage(obj(obj(json.message).usage));
    if (event === "message_delta") {
      readUsage(obj(json.usage));
      const r = obj(json.delta).stop_reason;
      if (typeof r === "string") rawStopReason = r;
    }
    if (event === "message_stop") hasMessageStop = true;
    const index = Number(json.index);
    if (event === "content_block_start" && obj(json.content_block).type === "tool_use") {
      const b = obj(json.content_block);
      tools.set(index, { id: str(b.id), name: str(b.name), arguments: "" });
    }
    if (event === "content_block_delta") {
      const d = obj(json.delta);
      const add = (kind: string, text: string): void => {
        channels.set(`b${index}/${kind}`, (channels.get(`b${index}/${kind}`) ?? "") + text);
      };
      if (d.type === "text_delta") {
        content += str(d.text);
        add("text", str(d.text));
      } else if (d.type === "thinking_delta") {
        reasoning += str(d.thinking);
        add("thinking", str(d.thinking));
      } else if (d.type === "input_json_delta") {
        add("input", str(d.partial_json));
        const tool = tools.get(index);
        if (tool !== undefined) tool.arguments += str(d.partial_json);
      }
    }
  }
  const prompt = input === undefined ? undefined : input + cacheCreation + cacheRead;
  return {
    content,
    reasoning,
    toolCalls: [...tools.values()],
    finishReason: rawStopReason === undefined ? undefined : EXPECTED_FINISH[rawStopReason],
    usage:
      prompt === undefined || output === undefined
        ? undefined
        : { prompt_tokens: prompt, completion_tokens: output, total_tokens: prompt + output },
    channels,
    rawStopReason,
    inputTokens: prompt,
    outputTokens: output,
    hasMessageStop,
  };
}

/** What a client reassembling the translated OpenAI chunks would end up with. */
export interface CollectedStream {
  readonly content: string;
  readonly reasoning: string;
  readonly toolCalls: { id: string; name: string; arguments: string }[];
  readonly finishReasons: ChatFinishReason[];
  readonly usageChunks: ChatUsage[];
  readonly roles: number;
  readonly firstChunkHasRole: boolean;
  readonly last: TranslateStep | undefined;
  readonly doneCount: number;
  readonly errors: TranslateStep[];
  readonly chunkCount: number;
}

/** Reassembles translator steps the way an OpenAI client does (tool calls by `index`). */
export function collect(steps: readonly TranslateStep[]): CollectedStream {
  let content = "";
  let reasoning = "";
  const toolCalls: { id: string; name: string; arguments: string }[] = [];
  const finishReasons: ChatFinishReason[] = [];
  const usageChunks: ChatUsage[] = [];
  let roles = 0;
  let firstChunkHasRole = false;
  let chunkCount = 0;
  let doneCount = 0;
  const errors: TranslateStep[] = [];
  for (const step of steps) {
    if (step.kind === "done") doneCount++;
    if (step.kind === "error") errors.push(step);
    if (step.kind !== "chunk") continue;
    const chunk = step.chunk;
    if (chunk.choices.length === 0 && chunk.usage) usageChunks.push(chunk.usage);
    for (const choice of chunk.choices) {
      const d = choice.delta;
      if (d.role !== undefined) roles++;
      if (chunkCount === 0) firstChunkHasRole = d.role === "assistant";
      content += d.content ?? "";
      reasoning += d.reasoning_content ?? "";
      for (const tc of d.tool_calls ?? []) {
        const t = toolCalls[tc.index] ?? { id: "", name: "", arguments: "" };
        toolCalls[tc.index] = t;
        if (tc.id !== undefined) t.id = tc.id;
        if (tc.function?.name !== undefined) t.name += tc.function.name;
        if (tc.function?.arguments !== undefined) t.arguments += tc.function.arguments;
      }
      if (choice.finish_reason !== null) finishReasons.push(choice.finish_reason);
    }
    chunkCount++;
  }
  return {
    content,
    reasoning,
    toolCalls,
    finishReasons,
    usageChunks,
    roles,
    firstChunkHasRole,
    last: steps[steps.length - 1],
    doneCount,
    errors,
    chunkCount,
  };
}
