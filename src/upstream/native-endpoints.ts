import { GatewayError } from "../errors.ts";
import { ERROR_CODE } from "../protocol.ts";
import { anthropicFormat } from "./anthropic/format.ts";
import type { WireFormat } from "./format.ts";
import { geminiFormat } from "./gemini/format.ts";
import { openAiChatFormat } from "./openai-chat/format.ts";
import { openAiResponsesFormat } from "./openai-responses/format.ts";
import type { ApiFamily } from "./providers.ts";

/** One native endpoint matched against the path after `/<provider>`. */
export interface NativeMatch {
  /** Path appended to the provider's base URL (query included). */
  readonly upstreamPath: string;
  readonly format: WireFormat;
  /** Model named in the path (Gemini); otherwise the body's `model` field is required. */
  readonly pathModel?: string;
  /** For a model named in the path: the same endpoint's upstream path for another model (a fallback). */
  readonly pathFor?: (model: string) => string;
  /** Whether the endpoint streams by itself (Gemini's two actions); otherwise the body's `stream` decides. */
  readonly stream?: boolean;
}

/** A native path pattern of a family and what it forwards to. */
export interface NativeEndpoint {
  readonly pattern: RegExp;
  readonly build: (m: RegExpExecArray) => NativeMatch;
}

/** Gemini model ids are simple slugs; anything else in that path segment is refused, never forwarded. */
const GEMINI_MODEL = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Each family's native endpoints, with the upstream path each forwards to (from the provider's docs). */
export const NATIVE_ENDPOINTS: Readonly<Record<ApiFamily, readonly NativeEndpoint[]>> = {
  openai: [
    {
      pattern: /^\/v1\/chat\/completions$/,
      build: () => ({ upstreamPath: "/chat/completions", format: openAiChatFormat }),
    },
    {
      pattern: /^\/v1\/responses$/,
      build: () => ({ upstreamPath: "/responses", format: openAiResponsesFormat }),
    },
  ],
  anthropic: [
    { pattern: /^\/v1\/messages$/, build: () => ({ upstreamPath: "/v1/messages", format: anthropicFormat }) },
  ],
  gemini: [
    {
      pattern: /^\/v1beta\/models\/([^/]+):(streamGenerateContent|generateContent)$/,
      build: (m) => {
        const model = decodeURIComponent(m[1] ?? "");
        if (!GEMINI_MODEL.test(model)) {
          throw new GatewayError(
            400,
            ERROR_CODE.invalidRequest,
            "the model in the path is not a valid Gemini model id",
          );
        }
        const action = m[2] ?? "generateContent";
        // The gateway always asks for SSE framing: without `alt=sse` Gemini streams one JSON array.
        const query = action === "streamGenerateContent" ? "?alt=sse" : "";
        return {
          upstreamPath: `/v1beta/models/${model}:${action}${query}`,
          format: geminiFormat,
          pathModel: model,
          pathFor: (other) => `/v1beta/models/${encodeURIComponent(other)}:${action}${query}`,
          stream: action === "streamGenerateContent",
        };
      },
    },
  ],
  // Workers AI is reached through the AI binding, only via the unified endpoint.
  "workers-ai": [],
};
