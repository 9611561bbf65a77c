import { sseEvent } from "../../sse/encode.ts";
import type { SseEvent } from "../../sse/types.ts";
import type { BlockedBy, EventInfo, InBandError, WireFormat } from "../format.ts";
import { tryParse } from "../json.ts";
import { rewriteTexts } from "../replace-data.ts";
import { wholeJsonEvent } from "../whole-event.ts";
import { chatAnswerTexts, chatBlockedAnswer } from "./answer.ts";
import { COMPLETE, inspectChunk, NOTHING, visitText } from "./chunk-info.ts";
import { chatSeam } from "./seam.ts";

/** Reads one Chat Completions event. */
function inspect(ev: SseEvent): EventInfo {
  if (!ev.hasData) return NOTHING;
  if (ev.data === "[DONE]") return COMPLETE;
  return inspectChunk(tryParse(ev.data), ev.event === "error");
}

function rewrite(ev: SseEvent, texts: readonly string[]): SseEvent {
  return rewriteTexts(ev, texts, visitText);
}

/** The in-band error the OpenAI SDK raises: a data chunk with a top-level `error` object. */
function errorEvents(err: InBandError): SseEvent[] {
  const body = { error: { message: err.message, type: "server_error", param: null, code: err.code } };
  return [sseEvent({ data: JSON.stringify(body) })];
}

/** A last chunk with `finish_reason: "content_filter"` naming the rule, then `[DONE]`. */
function blockedEvents(name: string, by: BlockedBy = "rule"): SseEvent[] {
  const chunk = {
    id: "chatcmpl-guardrail",
    object: "chat.completion.chunk",
    created: Math.floor(Date.now() / 1000),
    model: "",
    choices: [{ index: 0, delta: {}, finish_reason: "content_filter" }],
    guardrail: { [by]: name },
  };
  return [sseEvent({ data: JSON.stringify(chunk) }), sseEvent({ data: "[DONE]" })];
}

/** OpenAI Chat Completions streams (and every OpenAI-compatible server, Workers AI's OpenAI mode). */
export const openAiChatFormat: WireFormat = {
  name: "openai-chat",
  errorShape: "openai",
  inspect,
  isWhole: wholeJsonEvent(["[DONE]"]),
  rewrite,
  errorEvents,
  endMarker: () => [sseEvent({ data: "[DONE]" })],
  continuation: { channel: "c0/content", seam: chatSeam },
  blockedEvents,
  answerTexts: chatAnswerTexts,
  blockedAnswer: chatBlockedAnswer,
};
