import { GatewayError } from "../../errors.ts";
import { ERROR_CODE } from "../../protocol.ts";
import { isObject, type JsonObject } from "../json.ts";
import type {
  ChatContentPart,
  ChatMessage,
  ChatRequest,
  ChatResponseFormat,
  ChatTool,
  ChatToolCall,
  ChatToolChoice,
} from "./types.ts";

/** Most targets a request's `models` may list. */
const MAX_MODELS = 8;

/** The optional `models` chain: 1 to 8 non-empty strings. */
function modelList(v: unknown): readonly string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (
    !Array.isArray(v) ||
    v.length === 0 ||
    v.length > MAX_MODELS ||
    !v.every((m) => typeof m === "string" && m !== "" && m.length <= MAX_MODEL_LENGTH)
  ) {
    throw invalid(`"models" must be an array of 1 to ${MAX_MODELS} non-empty model names`);
  }
  return v as string[];
}

/** Fields read into typed properties; everything else is kept in `extra` for the translator to judge. */
const KNOWN_FIELDS = new Set([
  "model",
  // The gateway's fallback chain for this request (OpenRouter's convention): never sent upstream.
  "models",
  "messages",
  "stream",
  "stream_options",
  "max_tokens",
  "max_completion_tokens",
  "temperature",
  "top_p",
  "stop",
  "tools",
  "tool_choice",
  "response_format",
  "n",
]);

/** Models are `<provider>/<model>` or an alias; longer names are refused before any lookup. */
const MAX_MODEL_LENGTH = 256;

function invalid(message: string): GatewayError {
  return new GatewayError(400, ERROR_CODE.invalidRequest, message);
}

function content(v: unknown, at: string, nullable: boolean): string | readonly ChatContentPart[] | null {
  if (typeof v === "string") return v;
  if (v === null || v === undefined) {
    if (nullable) return null;
    throw invalid(`${at} is required`);
  }
  if (!Array.isArray(v)) throw invalid(`${at} must be a string or an array of content parts`);
  return v.map((part: unknown, i): ChatContentPart => {
    const pat = `${at}[${i}]`;
    if (!isObject(part)) throw invalid(`${pat} must be an object`);
    if (part.type === "text") {
      if (typeof part.text !== "string") throw invalid(`${pat}.text must be a string`);
      return { type: "text", text: part.text };
    }
    if (part.type === "image_url") {
      const img = part.image_url;
      if (!isObject(img) || typeof img.url !== "string")
        throw invalid(`${pat}.image_url.url must be a string`);
      return {
        type: "image_url",
        image_url: { url: img.url, ...(typeof img.detail === "string" ? { detail: img.detail } : {}) },
      };
    }
    throw invalid(`${pat}.type must be "text" or "image_url"`);
  });
}

function toolCalls(v: unknown, at: string): readonly ChatToolCall[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw invalid(`${at} must be an array`);
  return v.map((call: unknown, i): ChatToolCall => {
    const cat = `${at}[${i}]`;
    if (!isObject(call) || typeof call.id !== "string") throw invalid(`${cat}.id must be a string`);
    const fn = call.function;
    if (!isObject(fn) || typeof fn.name !== "string" || typeof fn.arguments !== "string") {
      throw invalid(`${cat}.function must have string "name" and "arguments"`);
    }
    return { id: call.id, type: "function", function: { name: fn.name, arguments: fn.arguments } };
  });
}

function message(m: unknown, i: number): ChatMessage {
  const at = `messages[${i}]`;
  if (!isObject(m)) throw invalid(`${at} must be an object`);
  switch (m.role) {
    case "system":
    case "developer":
    case "user": {
      const c = content(m.content, `${at}.content`, false);
      return { role: m.role, content: c ?? "" };
    }
    case "assistant": {
      const calls = toolCalls(m.tool_calls, `${at}.tool_calls`);
      const c = content(m.content, `${at}.content`, true);
      if (c === null && calls === undefined) throw invalid(`${at} needs "content" or "tool_calls"`);
      return { role: "assistant", content: c, ...(calls === undefined ? {} : { tool_calls: calls }) };
    }
    case "tool": {
      if (typeof m.tool_call_id !== "string") throw invalid(`${at}.tool_call_id must be a string`);
      const c = content(m.content, `${at}.content`, false);
      return { role: "tool", tool_call_id: m.tool_call_id, content: c ?? "" };
    }
    default:
      throw invalid(`${at}.role must be one of system, developer, user, assistant, tool`);
  }
}

function numberIn(
  json: JsonObject,
  field: string,
  min: number,
  max: number,
  integer: boolean,
): number | undefined {
  const v = json[field];
  if (v === undefined || v === null) return undefined;
  if (
    typeof v !== "number" ||
    !Number.isFinite(v) ||
    (integer && !Number.isInteger(v)) ||
    v < min ||
    v > max
  ) {
    throw invalid(`"${field}" must be ${integer ? "an integer" : "a number"} between ${min} and ${max}`);
  }
  return v;
}

function tools(v: unknown): readonly ChatTool[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw invalid(`"tools" must be an array`);
  return v.map((t: unknown, i): ChatTool => {
    const fn = isObject(t) ? t.function : undefined;
    if (
      !isObject(t) ||
      t.type !== "function" ||
      !isObject(fn) ||
      typeof fn.name !== "string" ||
      fn.name === ""
    ) {
      throw invalid(`tools[${i}] must be {"type":"function","function":{"name":...}}`);
    }
    if (fn.parameters !== undefined && !isObject(fn.parameters))
      throw invalid(`tools[${i}].function.parameters must be an object`);
    return {
      type: "function",
      function: {
        name: fn.name,
        ...(typeof fn.description === "string" ? { description: fn.description } : {}),
        ...(isObject(fn.parameters) ? { parameters: fn.parameters } : {}),
        ...(typeof fn.strict === "boolean" ? { strict: fn.strict } : {}),
      },
    };
  });
}

function toolChoice(v: unknown): ChatToolChoice | undefined {
  if (v === undefined || v === null) return undefined;
  if (v === "none" || v === "auto" || v === "required") return v;
  if (isObject(v) && v.type === "function" && isObject(v.function) && typeof v.function.name === "string") {
    return { type: "function", function: { name: v.function.name } };
  }
  throw invalid(
    `"tool_choice" must be "none", "auto", "required" or {"type":"function","function":{"name":...}}`,
  );
}

function responseFormat(v: unknown): ChatResponseFormat | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) throw invalid(`"response_format" must be an object`);
  if (v.type === "text" || v.type === "json_object") return { type: v.type };
  if (v.type === "json_schema") {
    const js = v.json_schema;
    if (!isObject(js) || typeof js.name !== "string")
      throw invalid(`"response_format.json_schema.name" is required`);
    return {
      type: "json_schema",
      json_schema: {
        name: js.name,
        ...(isObject(js.schema) ? { schema: js.schema } : {}),
        ...(typeof js.strict === "boolean" ? { strict: js.strict } : {}),
      },
    };
  }
  throw invalid(`"response_format.type" must be "text", "json_object" or "json_schema"`);
}

function stop(v: unknown): string | readonly string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === "string") return v;
  if (Array.isArray(v) && v.every((s) => typeof s === "string")) return v as readonly string[];
  throw invalid(`"stop" must be a string or an array of strings`);
}

/** Validates an OpenAI Chat Completions body into a typed request; every error names the field. */
export function parseChatRequest(json: JsonObject): ChatRequest {
  const models = modelList(json.models);
  const model = json.model ?? models?.[0];
  if (typeof model !== "string" || model === "")
    throw invalid(`"model" is required and must be a non-empty string`);
  if (model.length > MAX_MODEL_LENGTH) throw invalid(`"model" is longer than ${MAX_MODEL_LENGTH} characters`);
  // With a chain, "model" may be left out; when given it must be the chain's first entry, so the
  // request never means two things.
  if (models !== undefined && models[0] !== model)
    throw invalid(
      `"model" must be the first entry of "models" (or be left out), got "${model.slice(0, 64)}"`,
    );
  if (!Array.isArray(json.messages) || json.messages.length === 0) {
    throw invalid(`"messages" is required and must be a non-empty array`);
  }
  const stream = json.stream;
  if (stream !== undefined && stream !== null && typeof stream !== "boolean")
    throw invalid(`"stream" must be a boolean`);
  const so = json.stream_options;
  if (
    so !== undefined &&
    so !== null &&
    (!isObject(so) || (so.include_usage !== undefined && typeof so.include_usage !== "boolean"))
  ) {
    throw invalid(`"stream_options" must be an object like {"include_usage": true}`);
  }
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(json)) if (!KNOWN_FIELDS.has(k)) extra[k] = v;
  const optional = {
    max_tokens: numberIn(json, "max_tokens", 1, 10_000_000, true),
    max_completion_tokens: numberIn(json, "max_completion_tokens", 1, 10_000_000, true),
    temperature: numberIn(json, "temperature", 0, 2, false),
    top_p: numberIn(json, "top_p", 0, 1, false),
    n: numberIn(json, "n", 1, 128, true),
    stop: stop(json.stop),
    tools: tools(json.tools),
    tool_choice: toolChoice(json.tool_choice),
    response_format: responseFormat(json.response_format),
    stream_options: isObject(so) ? { include_usage: so.include_usage === true } : undefined,
  };
  const defined = Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== undefined));
  return {
    model,
    ...(models === undefined ? {} : { models }),
    messages: json.messages.map(message),
    ...(typeof stream === "boolean" ? { stream } : {}),
    ...defined,
    extra,
  };
}
