import { GatewayError } from "../../errors.ts";
import { ERROR_CODE } from "../../protocol.ts";
import type { ChatRequest, ChatTool, ChatToolChoice } from "../openai-chat/types.ts";
import type { UpstreamCall } from "../translator.ts";
import { type AnthropicMessage, translateMessages } from "./translate-messages.ts";
import { ANTHROPIC } from "./wire.ts";

/**
 * `max_tokens` is required by the Messages API while OpenAI makes it optional; 4096 is a safe
 * default every current Claude model supports, and long enough for typical chat answers.
 */
export const DEFAULT_MAX_TOKENS = 4096;

/** Anthropic's sampling temperature range is 0..1 (OpenAI's is 0..2). */
const MAX_TEMPERATURE = 1;

/** An Anthropic tool definition. */
interface AnthropicTool {
  readonly name: string;
  readonly description?: string;
  readonly input_schema: Record<string, unknown>;
  readonly strict?: boolean;
}

/** Anthropic `tool_choice`. */
type AnthropicToolChoice =
  | { readonly type: "auto" | "any"; readonly disable_parallel_tool_use?: boolean }
  | { readonly type: "none" }
  | { readonly type: "tool"; readonly name: string; readonly disable_parallel_tool_use?: boolean };

/** The Messages API request body the translation produces. */
export interface AnthropicRequestBody {
  readonly model: string;
  readonly max_tokens: number;
  readonly messages: readonly AnthropicMessage[];
  readonly system?: readonly { readonly type: "text"; readonly text: string }[];
  readonly temperature?: number;
  readonly top_p?: number;
  readonly stop_sequences?: readonly string[];
  readonly tools?: readonly AnthropicTool[];
  readonly tool_choice?: AnthropicToolChoice;
  readonly metadata?: { readonly user_id: string };
  readonly stream?: true;
}

function unsupported(field: string, why: string): GatewayError {
  return new GatewayError(
    400,
    ERROR_CODE.unsupportedParameter,
    `unsupported parameter "${field.slice(0, 64)}" for provider Anthropic: ${why}`,
  );
}

function invalid(message: string): GatewayError {
  return new GatewayError(400, ERROR_CODE.invalidRequest, message);
}

/** What the accepted `extra` fields contribute to the body. */
interface ExtraEffects {
  userId?: string;
  disableParallelToolUse?: boolean;
}

/**
 * Checks every field outside the typed subset. Nothing is silently dropped: a field is either mapped,
 * explicitly accepted as having no effect on generation, or rejected with a 400 naming it.
 * JSON `null` means "not set" in OpenAI's API, so a null field is treated as absent, and OpenAI's
 * own no-op defaults (`presence_penalty: 0`, `logprobs: false`...) that SDKs such as LangChain
 * send on every request are accepted because honouring them changes nothing.
 */
function readExtra(extra: Readonly<Record<string, unknown>>): ExtraEffects {
  const effects: ExtraEffects = {};
  for (const [field, value] of Object.entries(extra)) {
    if (value === null || value === undefined) continue;
    switch (field) {
      case "user":
        // OpenAI's end-user id has a direct Anthropic counterpart used for abuse detection.
        if (typeof value !== "string") throw invalid(`"${field}" must be a string`);
        effects.userId = value;
        break;
      case "metadata":
      case "store":
        // Stored-completions bookkeeping on OpenAI's side; no effect on what the model generates.
        break;
      case "parallel_tool_calls":
        if (typeof value !== "boolean") throw invalid(`"${field}" must be a boolean`);
        if (!value) effects.disableParallelToolUse = true;
        break;
      case "presence_penalty":
      case "frequency_penalty":
        if (value !== 0) throw unsupported(field, "Anthropic has no repetition penalties");
        break;
      case "logprobs":
        if (value !== false) throw unsupported(field, "Anthropic does not return log probabilities");
        break;
      default:
        throw unsupported(field, "Anthropic's Messages API has no equivalent");
    }
  }
  return effects;
}

function translateTool(t: ChatTool): AnthropicTool {
  return {
    name: t.function.name,
    ...(t.function.description === undefined ? {} : { description: t.function.description }),
    // Anthropic requires a schema; OpenAI allows omitting it for a tool without arguments.
    input_schema: t.function.parameters ?? { type: "object", properties: {} },
    ...(t.function.strict === undefined ? {} : { strict: t.function.strict }),
  };
}

function translateToolChoice(
  choice: ChatToolChoice | undefined,
  disableParallel: boolean,
): AnthropicToolChoice | undefined {
  // OpenAI's `parallel_tool_calls: false` is Anthropic's `disable_parallel_tool_use` on the choice.
  const parallel = disableParallel ? { disable_parallel_tool_use: true } : {};
  if (choice === undefined) return disableParallel ? { type: "auto", ...parallel } : undefined;
  if (choice === "none") return { type: "none" };
  if (choice === "auto") return { type: "auto", ...parallel };
  if (choice === "required") return { type: "any", ...parallel };
  return { type: "tool", name: choice.function.name, ...parallel };
}

/**
 * Builds the Messages API call for an OpenAI Chat Completions request. Throws a 400 naming the field
 * for anything Anthropic cannot honour (never drops it silently).
 */
export function buildAnthropicRequest(
  req: ChatRequest,
  upstreamModel: string,
  stream: boolean,
): UpstreamCall {
  if (req.n !== undefined && req.n !== 1) {
    throw unsupported("n", "Anthropic returns exactly one choice per request");
  }
  if (req.response_format !== undefined && req.response_format.type !== "text") {
    throw unsupported("response_format", `type "${req.response_format.type}" has no Messages API JSON mode`);
  }
  if (req.temperature !== undefined && req.temperature > MAX_TEMPERATURE) {
    throw unsupported("temperature", `${req.temperature} is outside Anthropic's range 0..${MAX_TEMPERATURE}`);
  }
  const extra = readExtra(req.extra);
  const { system, messages } = translateMessages(req.messages);
  const stop = typeof req.stop === "string" ? [req.stop] : req.stop;
  const tools = req.tools?.map(translateTool);
  const hasTools = tools !== undefined && tools.length > 0;
  if (!hasTools && (req.tool_choice === "required" || typeof req.tool_choice === "object")) {
    // OpenAI rejects this too; dropping it would silently turn a forced call into free text.
    throw invalid("tool_choice requires a non-empty tools list");
  }
  const toolChoice = hasTools
    ? translateToolChoice(req.tool_choice, extra.disableParallelToolUse === true)
    : undefined;
  const body: AnthropicRequestBody = {
    model: upstreamModel,
    // `max_completion_tokens` is OpenAI's current name; `max_tokens` its deprecated alias.
    max_tokens: req.max_completion_tokens ?? req.max_tokens ?? DEFAULT_MAX_TOKENS,
    messages,
    ...(system.length === 0 ? {} : { system }),
    ...(req.temperature === undefined ? {} : { temperature: req.temperature }),
    ...(req.top_p === undefined ? {} : { top_p: req.top_p }),
    ...(stop === undefined || stop.length === 0 ? {} : { stop_sequences: stop }),
    ...(hasTools ? { tools } : {}),
    ...(toolChoice === undefined ? {} : { tool_choice: toolChoice }),
    ...(extra.userId === undefined ? {} : { metadata: { user_id: extra.userId } }),
    ...(stream ? { stream: true } : {}),
  };
  return { path: ANTHROPIC.path, body, headers: { [ANTHROPIC.versionHeader]: ANTHROPIC.version } };
}
