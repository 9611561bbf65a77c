import { GatewayError } from "../../errors.ts";
import { ERROR_CODE } from "../../protocol.ts";
import type {
  ChatContentPart,
  ChatMessage,
  ChatRequest,
  ChatTool,
  ChatToolCall,
} from "../openai-chat/types.ts";
import type { UpstreamCall } from "../translator.ts";

/** One message as Workers AI text-generation models take it: string content only. */
export type WorkersAiMessage =
  | { readonly role: "system" | "user"; readonly content: string }
  | { readonly role: "assistant"; readonly content: string; readonly tool_calls?: readonly ChatToolCall[] }
  | {
      readonly role: "tool";
      readonly content: string;
      readonly tool_call_id: string;
      readonly name?: string;
    };

/** The input object of `env.AI.run(model, input)` for a text-generation model. */
export interface WorkersAiInput {
  readonly messages: readonly WorkersAiMessage[];
  readonly stream?: true;
  readonly max_tokens?: number;
  readonly temperature?: number;
  readonly top_p?: number;
  readonly seed?: number;
  readonly presence_penalty?: number;
  readonly frequency_penalty?: number;
  readonly tools?: readonly ChatTool[];
  readonly response_format?:
    | { readonly type: "json_object" }
    | { readonly type: "json_schema"; readonly json_schema: Record<string, unknown> };
}

/** Workers AI catalog models are named `@cf/<org>/<model>` (or `@hf/…` for partner models). */
const MODEL_NAME = /^@(?:cf|hf)\/[\w.-]+\/[\w.:-]+$/;

function unsupported(field: string, why: string): GatewayError {
  return new GatewayError(
    400,
    ERROR_CODE.unsupportedParameter,
    `unsupported parameter "${field.slice(0, 64)}" for provider Workers AI: ${why}`,
  );
}

function invalid(message: string): GatewayError {
  return new GatewayError(400, ERROR_CODE.invalidRequest, message);
}

function numberValue(field: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isFinite(value)) throw invalid(`"${field}" must be a number`);
  return value;
}

/** Sampling fields outside the typed subset that Workers AI's text-generation schema also has. */
interface ExtraInput {
  seed?: number;
  presence_penalty?: number;
  frequency_penalty?: number;
}

/**
 * Checks every field outside the typed subset: mapped, accepted as having no effect on generation,
 * or rejected with a 400 naming it. `null` and OpenAI's no-op defaults count as not set.
 */
function readExtra(extra: Readonly<Record<string, unknown>>): ExtraInput {
  const input: ExtraInput = {};
  for (const [field, value] of Object.entries(extra)) {
    if (value === null || value === undefined) continue;
    switch (field) {
      case "seed":
        input.seed = numberValue(field, value);
        break;
      case "presence_penalty":
      case "frequency_penalty": {
        const penalty = numberValue(field, value);
        if (penalty !== 0) input[field] = penalty;
        break;
      }
      case "user":
      case "safety_identifier":
      case "metadata":
      case "store":
      case "prompt_cache_key":
      case "stream_options":
        // End-user ids, OpenAI-side storage and cache hints: no effect on what the model generates.
        break;
      case "parallel_tool_calls":
        if (value !== true)
          throw unsupported(field, "Workers AI cannot be told to avoid parallel tool calls");
        break;
      case "logprobs":
        if (value !== false) throw unsupported(field, "Workers AI does not return log probabilities");
        break;
      default:
        throw unsupported(field, "Workers AI text generation has no equivalent");
    }
  }
  return input;
}

/** Content as one string; Workers AI chat messages take no image parts. */
function textContent(content: string | readonly ChatContentPart[] | null, field: string): string {
  if (content === null) return "";
  if (typeof content === "string") return content;
  return content
    .map((part, j) => {
      if (part.type !== "text") {
        throw unsupported(
          `${field}[${j}]`,
          "chat messages take text only (vision models need a different input)",
        );
      }
      return part.text;
    })
    .join("\n");
}

function translateMessage(m: ChatMessage, i: number, callNames: Map<string, string>): WorkersAiMessage {
  const field = `messages[${i}].content`;
  switch (m.role) {
    case "system":
    case "developer":
      // Open models' chat templates know only "system".
      return { role: "system", content: textContent(m.content, field) };
    case "user":
      return { role: "user", content: textContent(m.content, field) };
    case "assistant": {
      const calls = m.tool_calls ?? [];
      for (const call of calls) callNames.set(call.id, call.function.name);
      return {
        role: "assistant",
        content: textContent(m.content, field),
        ...(calls.length === 0 ? {} : { tool_calls: calls }),
      };
    }
    case "tool": {
      const name = callNames.get(m.tool_call_id);
      return {
        role: "tool",
        content: textContent(m.content, field),
        tool_call_id: m.tool_call_id,
        ...(name === undefined ? {} : { name }),
      };
    }
  }
}

function responseFormat(req: ChatRequest, stream: boolean): WorkersAiInput["response_format"] {
  const format = req.response_format;
  if (format === undefined || format.type === "text") return undefined;
  // Cloudflare documents that JSON Mode does not support streaming.
  if (stream) throw unsupported("response_format", "Workers AI JSON mode does not support streaming");
  if (format.type === "json_object") return { type: "json_object" };
  return { type: "json_schema", json_schema: format.json_schema.schema ?? { type: "object" } };
}

/**
 * Builds the Workers AI call. The model runs through the `AI` binding, not over HTTP, so `path`
 * carries the model name for `env.AI.run(path, body)` and `body` is the input object. Throws a 400
 * naming the field for anything Workers AI cannot honour.
 */
export function buildWorkersAiRequest(
  req: ChatRequest,
  upstreamModel: string,
  stream: boolean,
): UpstreamCall {
  if (!MODEL_NAME.test(upstreamModel)) {
    throw invalid(
      `invalid Workers AI model "${upstreamModel.slice(0, 64)}": expected a name like @cf/meta/llama-3.1-8b-instruct`,
    );
  }
  if (req.n !== undefined && req.n !== 1) throw unsupported("n", "Workers AI returns exactly one choice");
  if (req.stop !== undefined && req.stop.length > 0)
    throw unsupported("stop", "Workers AI has no stop sequences");
  const tools = req.tools ?? [];
  const choice = req.tool_choice;
  if (choice === "required" || typeof choice === "object") {
    throw unsupported(
      "tool_choice",
      'Workers AI cannot force a tool call; only "auto" and "none" are accepted',
    );
  }
  const extra = readExtra(req.extra);
  const callNames = new Map<string, string>();
  const messages = req.messages.map((m, i) => translateMessage(m, i, callNames));
  const format = responseFormat(req, stream);
  const maxTokens = req.max_completion_tokens ?? req.max_tokens;
  // tool_choice "none" is honoured by not offering the tools at all.
  const offerTools = tools.length > 0 && choice !== "none";
  const body: WorkersAiInput = {
    messages,
    ...(stream ? { stream: true } : {}),
    ...(maxTokens === undefined ? {} : { max_tokens: maxTokens }),
    ...(req.temperature === undefined ? {} : { temperature: req.temperature }),
    ...(req.top_p === undefined ? {} : { top_p: req.top_p }),
    ...extra,
    ...(offerTools ? { tools } : {}),
    ...(format === undefined ? {} : { response_format: format }),
  };
  return { path: upstreamModel, body };
}
