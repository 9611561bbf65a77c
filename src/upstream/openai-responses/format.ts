import { sseEvent } from "../../sse/encode.ts";
import type { SseEvent } from "../../sse/types.ts";
import type { BlockedBy, EventInfo, InBandError, TextPart, WireFormat } from "../format.ts";
import { arr, isObject, type JsonObject, num, obj, str, tryParse } from "../json.ts";
import { replaceData } from "../replace-data.ts";
import { wholeJsonEvent } from "../whole-event.ts";
import { responsesAnswerTexts, responsesBlockedAnswer } from "./answer.ts";

/** Streamed fragments: event type → the field holding the fragment and the channel's kind. */
const DELTA_EVENTS: Readonly<Record<string, string>> = {
  "response.output_text.delta": "text",
  "response.refusal.delta": "refusal",
  "response.reasoning_text.delta": "reasoning",
  "response.reasoning_summary_text.delta": "summary",
  "response.function_call_arguments.delta": "args",
  "response.code_interpreter_call_code.delta": "code",
};

/** Events that repeat a whole text once it is finished; they need scanning too, as one final part. */
const DONE_TEXT_FIELDS: Readonly<Record<string, string>> = {
  "response.output_text.done": "text",
  "response.refusal.done": "refusal",
  "response.reasoning_text.done": "text",
  "response.reasoning_summary_text.done": "text",
  "response.function_call_arguments.done": "arguments",
  "response.code_interpreter_call_code.done": "code",
};

/** Events whose payload embeds finished output items (whole texts again). */
const ITEM_EVENTS = new Set(["response.output_item.done", "response.content_part.done"]);
const RESPONSE_EVENTS = new Set(["response.completed", "response.incomplete", "response.failed"]);

type Visit = (channel: string, text: string, final: boolean, set: (t: string) => void) => void;

function channelOf(e: JsonObject, kind: string): string {
  const sub = num(e, "summary_index") ?? num(e, "content_index") ?? 0;
  return `o${num(e, "output_index") ?? 0}/${sub}/${kind}`;
}

/** Visits the texts inside an output item or content part (message content, arguments, summaries). */
function visitItem(item: JsonObject, prefix: string, visit: Visit): void {
  const direct = str(item, "text");
  if (direct) visit(`${prefix}/text`, direct, true, (t) => (item.text = t));
  const args = str(item, "arguments");
  if (args) visit(`${prefix}/args`, args, true, (t) => (item.arguments = t));
  for (const list of ["content", "summary"] as const) {
    arr(item, list).forEach((part, i) => {
      if (!isObject(part)) return;
      for (const field of ["text", "refusal"] as const) {
        const t = str(part, field);
        if (t) visit(`${prefix}/${list}${i}/${field}`, t, true, (v) => (part[field] = v));
      }
    });
  }
}

function visitText(type: string, e: JsonObject, visit: Visit): void {
  const deltaKind = DELTA_EVENTS[type];
  if (deltaKind !== undefined) {
    const d = str(e, "delta");
    if (d) visit(channelOf(e, deltaKind), d, false, (t) => (e.delta = t));
    return;
  }
  const doneField = DONE_TEXT_FIELDS[type];
  if (doneField !== undefined) {
    const t = str(e, doneField);
    if (t) visit(`done/${type}/${channelOf(e, doneField)}`, t, true, (v) => (e[doneField] = v));
    return;
  }
  if (ITEM_EVENTS.has(type)) {
    const item = obj(e, "item") ?? obj(e, "part");
    if (item !== undefined) visitItem(item, `done/${type}/${channelOf(e, "item")}`, visit);
    return;
  }
  if (RESPONSE_EVENTS.has(type)) {
    const response = obj(e, "response");
    if (response === undefined) return;
    arr(response, "output").forEach((item, i) => {
      if (isObject(item)) visitItem(item, `final/${type}/o${i}`, visit);
    });
  }
}

function inspect(ev: SseEvent): EventInfo {
  if (!ev.hasData) return { parts: [] };
  const e = tryParse(ev.data);
  if (!isObject(e)) return { parts: [] };
  const type = str(e, "type") ?? ev.event ?? "";
  if (type === "error") {
    const err = obj(e, "error");
    return {
      parts: [],
      signal: "error",
      errorMessage: (err && str(err, "message")) ?? str(e, "message") ?? "error",
    };
  }
  const parts: TextPart[] = [];
  visitText(type, e, (channel, text, final) =>
    parts.push(final ? { channel, text, final } : { channel, text }),
  );
  if (!RESPONSE_EVENTS.has(type)) return { parts };
  const response = obj(e, "response") ?? {};
  const usage = obj(response, "usage");
  const usageInfo =
    usage === undefined
      ? {}
      : { usage: { inputTokens: num(usage, "input_tokens"), outputTokens: num(usage, "output_tokens") } };
  if (type === "response.failed") {
    const err = obj(response, "error");
    return {
      parts,
      signal: "error",
      endOfStream: true,
      errorMessage: (err && str(err, "message")) ?? "response failed",
      ...usageInfo,
    };
  }
  return {
    parts,
    signal: "complete",
    endOfStream: true,
    finishReason: str(response, "status") ?? type,
    ...usageInfo,
  };
}

function rewrite(ev: SseEvent, texts: readonly string[]): SseEvent {
  const e = tryParse(ev.data);
  if (!isObject(e)) return ev;
  let i = 0;
  visitText(str(e, "type") ?? ev.event ?? "", e, (_c, _t, _f, set) => {
    const t = texts[i++];
    if (t !== undefined) set(t);
  });
  return replaceData(ev, JSON.stringify(e));
}

/** The Responses API's own `error` event (what OpenAI sends on a 200 when a response fails). */
function errorEvents(err: InBandError): SseEvent[] {
  const body = { type: "error", code: err.code, message: err.message, param: null };
  return [sseEvent({ event: "error", data: JSON.stringify(body) })];
}

/** A guardrail stop ends the response as `incomplete` with reason `content_filter`, as OpenAI does. */
function blockedEvents(name: string, by: BlockedBy = "rule"): SseEvent[] {
  const body = {
    type: "response.incomplete",
    response: {
      object: "response",
      status: "incomplete",
      incomplete_details: { reason: "content_filter" },
      guardrail: { [by]: name },
    },
  };
  return [sseEvent({ event: "response.incomplete", data: JSON.stringify(body) })];
}

/** OpenAI Responses API streams (`event: response.*`, no `[DONE]`). */
export const openAiResponsesFormat: WireFormat = {
  name: "openai-responses",
  errorShape: "openai",
  inspect,
  isWhole: wholeJsonEvent(),
  rewrite,
  errorEvents,
  blockedEvents,
  answerTexts: responsesAnswerTexts,
  blockedAnswer: responsesBlockedAnswer,
};
