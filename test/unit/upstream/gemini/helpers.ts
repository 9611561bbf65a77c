import type { SseEvent } from "../../../../src/sse/types.ts";
import type { ChatFinishReason, ChatUsage } from "../../../../src/upstream/openai-chat/types.ts";
import type { ChunkIdentity, StreamTranslator, TranslateStep } from "../../../../src/upstream/translator.ts";
import { decodedText, readFixture } from "../../../support/fixtures.ts";

/** The Gemini fixtures, relative to the shared fixture root. */
export const GEMINI_FIXTURES = [
  "gemini/stream-basic-long-crlf.sse",
  "gemini/stream-utf8-chinese.sse",
  "gemini/stream-thinking-function-call-signature.sse",
  "gemini/stream-prompt-blocked-safety.sse",
  "gemini/stream-error-mid-stream.sse",
] as const;

/** A chunk identity for tests. */
export function identity(includeUsage: boolean, id = "chatcmpl-test"): ChunkIdentity {
  return { id, created: 1_700_000_000, model: "gemini/gemini-test", includeUsage };
}

/** Runs events through a translator, then ends it. */
export function translate(
  t: StreamTranslator,
  events: readonly SseEvent[],
  cleanEof = true,
): TranslateStep[] {
  const steps: TranslateStep[] = [];
  for (const ev of events) steps.push(...t.push(ev));
  steps.push(...t.end(cleanEof));
  return steps;
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function obj(v: unknown): Json {
  return isObject(v) ? v : {};
}

function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/** One block of a fixture as the test reads it: a data payload, or bare (non-SSE) JSON. */
export type RawBlock =
  | { readonly kind: "data"; readonly json: Json }
  | { readonly kind: "bare"; readonly json: Json };

/**
 * A deliberately naive reading of a Gemini fixture (blocks split on blank lines, LF or CRLF; one
 * `data:` line per block; any other block parsed whole as JSON), computed without the code under test.
 */
export function rawBlocks(name: string): RawBlock[] {
  const out: RawBlock[] = [];
  for (const block of decodedText(readFixture(name)).split(/\r?\n\r?\n/)) {
    const trimmed = block.trim();
    if (trimmed === "") continue;
    const json: unknown = JSON.parse(trimmed.startsWith("data: ") ? trimmed.slice("data: ".length) : trimmed);
    if (!isObject(json)) throw new Error(`fixture ${name}: block is not an object`);
    out.push({ kind: trimmed.startsWith("data: ") ? "data" : "bare", json });
  }
  return out;
}

/** The finish mapping as this adapter's spec states it (kept apart from the code under test). */
const EXPECTED_FINISH: Record<string, ChatFinishReason> = {
  STOP: "stop",
  MAX_TOKENS: "length",
  SAFETY: "content_filter",
  RECITATION: "content_filter",
  BLOCKLIST: "content_filter",
  PROHIBITED_CONTENT: "content_filter",
  SPII: "content_filter",
};

/** What a whole Gemini fixture says, in OpenAI terms, computed from its raw JSON. */
export interface GeminiSummary {
  readonly content: string;
  readonly reasoning: string;
  readonly toolCalls: readonly { readonly name: string; readonly arguments: string }[];
  readonly finishReason: ChatFinishReason | undefined;
  readonly usage: ChatUsage | undefined;
  /** `usageMetadata.totalTokenCount` of the last chunk, to cross-check the computed total. */
  readonly upstreamTotal: number | undefined;
  /** Text per `c<i>/<kind>` channel, as the passthrough format should report it. */
  readonly channels: ReadonlyMap<string, string>;
  /** Message of a bare (non-SSE) error object, if the fixture ends with one. */
  readonly bareError: { readonly message: string; readonly status: string } | undefined;
}

/** Computes the summary straight from the fixture payloads. */
export function expectedSummary(name: string): GeminiSummary {
  let content = "";
  let reasoning = "";
  const toolCalls: { name: string; arguments: string }[] = [];
  const channels = new Map<string, string>();
  let rawFinish: string | undefined;
  let blocked = false;
  let usage: ChatUsage | undefined;
  let upstreamTotal: number | undefined;
  let bareError: GeminiSummary["bareError"];
  for (const block of rawBlocks(name)) {
    if (block.kind === "bare") {
      const e = obj(block.json.error);
      bareError = { message: String(e.message), status: String(e.status) };
      continue;
    }
    const json = block.json;
    if (typeof obj(json.promptFeedback).blockReason === "string") blocked = true;
    list(json.candidates).forEach((c, ci) => {
      const cand = obj(c);
      const index = typeof cand.index === "number" ? cand.index : ci;
      if (typeof cand.finishReason === "string") rawFinish = cand.finishReason;
      list(obj(cand.content).parts).forEach((p, pj) => {
        const part = obj(p);
        if (isObject(part.functionCall)) {
          const args = part.functionCall.args ?? {};
          toolCalls.push({ name: String(part.functionCall.name), arguments: JSON.stringify(args) });
          channels.set(`c${index}/call${pj}`, JSON.stringify(args));
        } else if (typeof part.text === "string" && part.text !== "") {
          const kind = part.thought === true ? "thought" : "text";
          if (kind === "thought") reasoning += part.text;
          else content += part.text;
          channels.set(`c${index}/${kind}`, (channels.get(`c${index}/${kind}`) ?? "") + part.text);
        }
      });
    });
    const meta = json.usageMetadata;
    if (isObject(meta)) {
      const prompt = Number(meta.promptTokenCount ?? 0);
      const completion = Number(meta.candidatesTokenCount ?? 0) + Number(meta.thoughtsTokenCount ?? 0);
      usage = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
      upstreamTotal = typeof meta.totalTokenCount === "number" ? meta.totalTokenCount : undefined;
    }
  }
  let finishReason: ChatFinishReason | undefined;
  if (blocked) finishReason = "content_filter";
  else if (rawFinish !== undefined) {
    finishReason = rawFinish === "STOP" && toolCalls.length > 0 ? "tool_calls" : EXPECTED_FINISH[rawFinish];
  }
  return { content, reasoning, toolCalls, finishReason, usage, upstreamTotal, channels, bareError };
}

/** What a client reassembling the translated OpenAI chunks ends up with. */
export interface Collected {
  readonly content: string;
  readonly reasoning: string;
  readonly toolCalls: { id: string; name: string; arguments: string }[];
  readonly finishReasons: ChatFinishReason[];
  readonly usageChunks: ChatUsage[];
  readonly roles: number;
  readonly firstChunkHasRole: boolean;
  readonly doneCount: number;
  readonly errors: { code: string; message: string }[];
  readonly last: TranslateStep | undefined;
}

/** Reassembles translator steps the way an OpenAI client does (tool calls by `index`, choice 0). */
export function collect(steps: readonly TranslateStep[]): Collected {
  let content = "";
  let reasoning = "";
  const toolCalls: { id: string; name: string; arguments: string }[] = [];
  const finishReasons: ChatFinishReason[] = [];
  const usageChunks: ChatUsage[] = [];
  let roles = 0;
  let firstChunkHasRole: boolean | undefined;
  let doneCount = 0;
  const errors: { code: string; message: string }[] = [];
  for (const step of steps) {
    if (step.kind === "done") doneCount++;
    if (step.kind === "error") errors.push({ code: step.error.code, message: step.error.message });
    if (step.kind !== "chunk") continue;
    if (step.chunk.choices.length === 0 && step.chunk.usage) usageChunks.push(step.chunk.usage);
    for (const choice of step.chunk.choices) {
      const d = choice.delta;
      firstChunkHasRole ??= d.role === "assistant";
      if (d.role !== undefined) roles++;
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
  }
  return {
    content,
    reasoning,
    toolCalls,
    finishReasons,
    usageChunks,
    roles,
    firstChunkHasRole: firstChunkHasRole === true,
    doneCount,
    errors,
    last: steps[steps.length - 1],
  };
}
