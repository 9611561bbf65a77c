import { sseEvent } from "../../sse/encode.ts";
import type { SseEvent } from "../../sse/types.ts";
import type { BlockedBy, EventInfo, InBandError, TextPart, WireFormat } from "../format.ts";
import { isObject, tryParse } from "../json.ts";
import { openAiChatFormat } from "../openai-chat/format.ts";
import { rewriteTexts } from "../replace-data.ts";
import { wholeJsonEvent } from "../whole-event.ts";
import { workersAiAnswerTexts, workersAiBlockedAnswer } from "./answer.ts";
import { DONE, readErrorMessage, readFinishReason, readUsage, visitText } from "./wire.ts";

const NOTHING: EventInfo = { parts: [] };
const COMPLETE: EventInfo = { parts: [], signal: "complete", endOfStream: true };

function inspect(ev: SseEvent): EventInfo {
  if (!ev.hasData) return NOTHING;
  if (ev.data === DONE) return COMPLETE;
  const chunk = tryParse(ev.data);
  if (!isObject(chunk)) return NOTHING;
  const errorMessage = readErrorMessage(chunk);
  if (errorMessage !== undefined) return { parts: [], signal: "error", errorMessage };
  const parts: TextPart[] = [];
  visitText(chunk, (channel, text) => parts.push({ channel, text }));
  const finishReason = readFinishReason(chunk);
  const usage = readUsage(chunk);
  return {
    parts,
    ...(finishReason === undefined ? {} : { finishReason }),
    ...(usage === undefined
      ? {}
      : { usage: { inputTokens: usage.prompt_tokens, outputTokens: usage.completion_tokens } }),
  };
}

function rewrite(ev: SseEvent, texts: readonly string[]): SseEvent {
  return rewriteTexts(ev, texts, visitText);
}

/**
 * OpenAI's in-band error chunk: Workers AI clients are OpenAI-style stream readers, and a top-level
 * `error` is what they raise on.
 */
function errorEvents(err: InBandError): SseEvent[] {
  return openAiChatFormat.errorEvents(err);
}

/**
 * A last native chunk with `finish_reason: "content_filter"` (the value Workers AI readers such as
 * workers-ai-provider map to a content filter), naming the rule, then the usual `[DONE]`.
 */
function blockedEvents(name: string, by: BlockedBy = "rule"): SseEvent[] {
  const chunk = { response: "", finish_reason: "content_filter", guardrail: { [by]: name } };
  return [sseEvent({ data: JSON.stringify(chunk) }), sseEvent({ data: DONE })];
}

/** Workers AI `env.AI.run(model, {stream: true})` output: `data: {"response":…}` … `data: [DONE]`. */
export const workersAiFormat: WireFormat = {
  name: "workers-ai",
  errorShape: "openai",
  inspect,
  isWhole: wholeJsonEvent([DONE]),
  rewrite,
  errorEvents,
  blockedEvents,
  answerTexts: workersAiAnswerTexts,
  blockedAnswer: workersAiBlockedAnswer,
};
