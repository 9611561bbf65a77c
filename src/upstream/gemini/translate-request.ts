import { GatewayError } from "../../errors.ts";
import { ERROR_CODE } from "../../protocol.ts";
import type { ChatRequest, ChatResponseFormat, ChatTool, ChatToolChoice } from "../openai-chat/types.ts";
import type { UpstreamCall } from "../translator.ts";
import { type GeminiContent, translateMessages } from "./translate-messages.ts";

/** Gemini `generationConfig`, limited to the fields the translation sets. */
export interface GeminiGenerationConfig {
  maxOutputTokens?: number;
  temperature?: number;
  topP?: number;
  stopSequences?: readonly string[];
  candidateCount?: number;
  presencePenalty?: number;
  frequencyPenalty?: number;
  seed?: number;
  responseMimeType?: string;
  responseJsonSchema?: Record<string, unknown>;
}

/** A Gemini function declaration. */
interface GeminiFunctionDeclaration {
  readonly name: string;
  readonly description?: string;
  readonly parametersJsonSchema?: Record<string, unknown>;
}

/** Gemini `toolConfig.functionCallingConfig`. */
interface GeminiFunctionCallingConfig {
  readonly mode: "AUTO" | "ANY" | "NONE";
  readonly allowedFunctionNames?: readonly string[];
}

/** The `generateContent` / `streamGenerateContent` request body the translation produces. */
export interface GeminiRequestBody {
  readonly contents: readonly GeminiContent[];
  readonly systemInstruction?: { readonly parts: readonly { readonly text: string }[] };
  readonly generationConfig?: GeminiGenerationConfig;
  readonly tools?: readonly [{ readonly functionDeclarations: readonly GeminiFunctionDeclaration[] }];
  readonly toolConfig?: { readonly functionCallingConfig: GeminiFunctionCallingConfig };
}

function unsupported(field: string, why: string): GatewayError {
  return new GatewayError(
    400,
    ERROR_CODE.unsupportedParameter,
    `unsupported parameter "${field.slice(0, 64)}" for provider Gemini: ${why}`,
  );
}

function invalid(message: string): GatewayError {
  return new GatewayError(400, ERROR_CODE.invalidRequest, message);
}

function numberValue(field: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isFinite(value)) throw invalid(`"${field}" must be a number`);
  return value;
}

/**
 * Checks every field outside the typed subset and returns what it adds to `generationConfig`.
 * Nothing is silently dropped: a field is mapped, accepted as having no effect on generation, or
 * rejected with a 400 naming it. JSON `null` means "not set" in OpenAI's API, and OpenAI's no-op
 * defaults (`logprobs: false`, `parallel_tool_calls: true`) that SDKs send on every request change
 * nothing, so both are accepted.
 */
function readExtra(extra: Readonly<Record<string, unknown>>): GeminiGenerationConfig {
  const config: GeminiGenerationConfig = {};
  for (const [field, value] of Object.entries(extra)) {
    if (value === null || value === undefined) continue;
    switch (field) {
      case "presence_penalty":
      case "frequency_penalty": {
        // 0 is OpenAI's default; leaving it out keeps models that reject penalties working.
        const penalty = numberValue(field, value);
        if (penalty === 0) break;
        if (field === "presence_penalty") config.presencePenalty = penalty;
        else config.frequencyPenalty = penalty;
        break;
      }
      case "seed":
        config.seed = numberValue(field, value);
        break;
      case "user":
      case "safety_identifier":
      case "metadata":
      case "store":
      case "prompt_cache_key":
      case "stream_options":
        // End-user ids, OpenAI-side storage and cache routing hints: no effect on what Gemini generates.
        break;
      case "parallel_tool_calls":
        if (value !== true)
          throw unsupported(field, "Gemini cannot be told to avoid parallel function calls");
        break;
      case "logprobs":
        if (value !== false)
          throw unsupported(field, "log probabilities are not translated to OpenAI's format");
        break;
      case "top_logprobs":
        throw unsupported(field, "log probabilities are not translated to OpenAI's format");
      case "logit_bias":
        if (typeof value === "object" && Object.keys(value).length === 0) break;
        throw unsupported(field, "Gemini has no token bias");
      case "reasoning_effort":
        throw unsupported(
          field,
          "Gemini's thinking control differs by model generation (thinkingLevel vs thinkingBudget)",
        );
      default:
        throw unsupported(field, "Gemini's generateContent API has no equivalent");
    }
  }
  return config;
}

function responseFormat(format: ChatResponseFormat | undefined): GeminiGenerationConfig {
  if (format === undefined || format.type === "text") return {};
  if (format.type === "json_object") return { responseMimeType: "application/json" };
  const schema = format.json_schema.schema;
  // responseJsonSchema takes JSON Schema as OpenAI clients write it (additionalProperties, $ref...);
  // responseSchema would only take Google's OpenAPI subset and reject those.
  return {
    responseMimeType: "application/json",
    ...(schema === undefined ? {} : { responseJsonSchema: schema }),
  };
}

function translateTool(t: ChatTool): GeminiFunctionDeclaration {
  return {
    name: t.function.name,
    ...(t.function.description === undefined ? {} : { description: t.function.description }),
    // parametersJsonSchema, like responseJsonSchema, accepts plain JSON Schema.
    ...(t.function.parameters === undefined ? {} : { parametersJsonSchema: t.function.parameters }),
  };
}

function translateToolChoice(
  choice: ChatToolChoice | undefined,
  tools: readonly ChatTool[],
): GeminiFunctionCallingConfig | undefined {
  if (choice === undefined) return undefined;
  if (choice === "auto") return { mode: "AUTO" };
  if (choice === "none") return { mode: "NONE" };
  if (tools.length === 0) {
    // OpenAI rejects this too; dropping it would silently turn a forced call into free text.
    throw invalid("tool_choice requires a non-empty tools list");
  }
  if (choice === "required") return { mode: "ANY" };
  const name = choice.function.name;
  if (!tools.some((t) => t.function.name === name)) {
    throw invalid(`tool_choice names function "${name.slice(0, 64)}", which is not in tools`);
  }
  return { mode: "ANY", allowedFunctionNames: [name] };
}

/**
 * The model id becomes a path segment; a `/`, `..` or `:` could reach another method or resource of
 * the API (`models/x:countTokens`, `../files`), so such ids are refused rather than escaped.
 */
function modelSegment(model: string): string {
  if (model === "" || model.includes("/") || model.includes("..") || model.includes(":")) {
    throw invalid(`invalid Gemini model id "${model.slice(0, 64)}"`);
  }
  return encodeURIComponent(model);
}

/** Path of the call: SSE streaming needs `alt=sse`, otherwise Gemini streams a JSON array. */
export function geminiPath(model: string, stream: boolean): string {
  const segment = modelSegment(model);
  return stream
    ? `/v1beta/models/${segment}:streamGenerateContent?alt=sse`
    : `/v1beta/models/${segment}:generateContent`;
}

/**
 * Builds the Gemini `generateContent` call for an OpenAI Chat Completions request. Throws a 400
 * naming the field for anything Gemini cannot honour (never drops it silently).
 */
export function buildGeminiRequest(req: ChatRequest, upstreamModel: string, stream: boolean): UpstreamCall {
  const path = geminiPath(upstreamModel, stream);
  const extraConfig = readExtra(req.extra);
  const { systemInstruction, contents } = translateMessages(req.messages);
  const stop = typeof req.stop === "string" ? [req.stop] : req.stop;
  // `max_completion_tokens` is OpenAI's current name; `max_tokens` its deprecated alias.
  const maxTokens = req.max_completion_tokens ?? req.max_tokens;
  const generationConfig: GeminiGenerationConfig = {
    ...(maxTokens === undefined ? {} : { maxOutputTokens: maxTokens }),
    ...(req.temperature === undefined ? {} : { temperature: req.temperature }),
    ...(req.top_p === undefined ? {} : { topP: req.top_p }),
    ...(stop === undefined || stop.length === 0 ? {} : { stopSequences: stop }),
    ...(req.n === undefined ? {} : { candidateCount: req.n }),
    ...extraConfig,
    ...responseFormat(req.response_format),
  };
  const tools = req.tools ?? [];
  const callingConfig = translateToolChoice(req.tool_choice, tools);
  const body: GeminiRequestBody = {
    contents,
    ...(systemInstruction === undefined ? {} : { systemInstruction }),
    ...(Object.keys(generationConfig).length === 0 ? {} : { generationConfig }),
    ...(tools.length === 0 ? {} : { tools: [{ functionDeclarations: tools.map(translateTool) }] }),
    ...(callingConfig === undefined ? {} : { toolConfig: { functionCallingConfig: callingConfig } }),
  };
  return { path, body };
}
