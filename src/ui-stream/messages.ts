import { GatewayError } from "../errors.ts";
import { ERROR_CODE } from "../protocol.ts";
import { isObject, type JsonObject } from "../upstream/json.ts";

/** A Chat Completions message as JSON, for the gateway's own request parser to validate. */
type ChatMessageJson = JsonObject;

/** Parts that only the page shows (sources, app data, step markers): a model is never sent them. */
const UI_ONLY = new Set(["step-start", "source-url", "source-document"]);

/** Tool-call states that carry an answer for the model; any earlier state has nothing to send yet. */
const ANSWERED = new Set(["output-available", "output-error"]);

function invalid(message: string): GatewayError {
  return new GatewayError(400, ERROR_CODE.invalidRequest, message);
}

function stringField(part: JsonObject, key: string, at: string): string {
  const v = part[key];
  if (typeof v !== "string") throw invalid(`${at}.${key} must be a string`);
  return v;
}

/**
 * `useChat`'s messages (UIMessage: a role and typed parts) as Chat Completions messages. Text and
 * images become content; an assistant's answered tool calls become `tool_calls` and `tool` results;
 * reasoning, sources, step markers and `data-*` parts stay on the page. Anything else is a 400 naming
 * the part, never silently dropped.
 */
export function chatMessages(value: unknown): ChatMessageJson[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw invalid("messages must be a non-empty array of UI messages (each a role and parts)");
  }
  const out: ChatMessageJson[] = [];
  value.forEach((message, i) => {
    const at = `messages[${i}]`;
    if (!isObject(message)) throw invalid(`${at} must be an object`);
    const parts = message.parts;
    if (!Array.isArray(parts)) throw invalid(`${at}.parts must be an array of message parts`);
    const role = message.role;
    if (role === "system" || role === "user") out.push(promptMessage(role, parts, at));
    else if (role === "assistant") out.push(...assistantMessages(parts, at));
    else throw invalid(`${at}.role must be "system", "user" or "assistant"`);
  });
  return out;
}

/** The type of part `j`, checked; undefined for a part that stays on the page. */
function partType(part: unknown, at: string): string | undefined {
  if (!isObject(part)) throw invalid(`${at} must be an object`);
  const type = part.type;
  if (typeof type !== "string") throw invalid(`${at}.type must be a string`);
  return UI_ONLY.has(type) || type.startsWith("data-") ? undefined : type;
}

function promptMessage(role: "system" | "user", parts: readonly unknown[], at: string): ChatMessageJson {
  const content: JsonObject[] = [];
  parts.forEach((part, j) => {
    const pat = `${at}.parts[${j}]`;
    const type = partType(part, pat);
    if (type === undefined || !isObject(part)) return;
    if (type === "text") content.push({ type: "text", text: stringField(part, "text", pat) });
    else if (type === "file" && role === "user") content.push(imagePart(part, pat));
    else throw invalid(`${pat}.type "${type.slice(0, 40)}" is not supported in a ${role} message`);
  });
  // All text: one string, which every provider's translator takes.
  if (content.every((p) => p.type === "text")) return { role, content: content.map((p) => p.text).join("") };
  return { role, content };
}

/** An image file part (a data URL or an https URL) as an `image_url` part; other files have no field. */
function imagePart(part: JsonObject, at: string): JsonObject {
  const mediaType = stringField(part, "mediaType", at);
  if (!mediaType.startsWith("image")) {
    throw invalid(`${at}.mediaType "${mediaType.slice(0, 60)}" is not supported: only images can be sent`);
  }
  return { type: "image_url", image_url: { url: stringField(part, "url", at) } };
}

/** One assistant step: its text, its tool calls, and their results (which follow it as `tool` messages). */
interface Step {
  text: string[];
  calls: JsonObject[];
  results: JsonObject[];
}

/**
 * An assistant UI message spans steps: text, tool calls, their results, more text. Each step is an
 * assistant message followed by its tool results, in order, as Chat Completions expects.
 */
function assistantMessages(parts: readonly unknown[], at: string): ChatMessageJson[] {
  const out: ChatMessageJson[] = [];
  let step: Step = { text: [], calls: [], results: [] };
  const flush = () => {
    if (step.text.length === 0 && step.calls.length === 0) return;
    const content = step.text.length === 0 ? null : step.text.join("");
    out.push(
      step.calls.length === 0
        ? { role: "assistant", content }
        : { role: "assistant", content, tool_calls: step.calls },
    );
    out.push(...step.results);
    step = { text: [], calls: [], results: [] };
  };
  parts.forEach((part, j) => {
    const pat = `${at}.parts[${j}]`;
    if (isObject(part) && part.type === "step-start") {
      flush();
      return;
    }
    const type = partType(part, pat);
    if (type === undefined || type === "reasoning" || !isObject(part)) return;
    if (type === "text") {
      // Text after a tool call is the next step's: the call's result came in between.
      if (step.calls.length > 0) flush();
      step.text.push(stringField(part, "text", pat));
    } else if (type === "dynamic-tool" || type.startsWith("tool-")) {
      const name = type === "dynamic-tool" ? stringField(part, "toolName", pat) : type.slice("tool-".length);
      toolCall(part, name, pat, step);
    } else throw invalid(`${pat}.type "${type.slice(0, 40)}" is not supported in an assistant message`);
  });
  flush();
  return out;
}

function toolCall(part: JsonObject, name: string, at: string, step: Step): void {
  const id = stringField(part, "toolCallId", at);
  const state = stringField(part, "state", at);
  if (!ANSWERED.has(state)) {
    throw invalid(
      `${at}.state "${state.slice(0, 40)}": a tool call is sent with its output (output-available or output-error)`,
    );
  }
  const args = JSON.stringify(part.input ?? {});
  step.calls.push({ id, type: "function", function: { name, arguments: args } });
  const result = state === "output-available" ? part.output : stringField(part, "errorText", at);
  const content = typeof result === "string" ? result : JSON.stringify(result ?? null);
  step.results.push({ role: "tool", tool_call_id: id, content });
}
