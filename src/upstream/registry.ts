import { GatewayError } from "../errors.ts";
import { ERROR_CODE, type ErrorShape } from "../protocol.ts";
import { anthropicTranslator } from "./anthropic/chat-translator.ts";
import { anthropicFormat } from "./anthropic/format.ts";
import { anthropicPrefill } from "./anthropic/prefill.ts";
import type { FormatName, WireFormat } from "./format.ts";
import { geminiFormat } from "./gemini/format.ts";
import { geminiTranslator } from "./gemini/translator.ts";
import type { JsonObject } from "./json.ts";
import { NATIVE_ENDPOINTS, type NativeEndpoint, type NativeMatch } from "./native-endpoints.ts";
import { openAiChatFormat } from "./openai-chat/format.ts";
import { chatPrefill } from "./openai-chat/prefill.ts";
import { openAiTranslator } from "./openai-chat/translator.ts";
import { openAiResponsesFormat } from "./openai-responses/format.ts";
import type { ApiFamily } from "./providers.ts";
import type { ChatTranslator, Prefill, PrefillStyle } from "./translator.ts";
import { workersAiFormat } from "./workers-ai/format.ts";
import { workersAiTranslator } from "./workers-ai/translator.ts";

/**
 * The one registry of the gateway's provider families and wire formats: everything shared code
 * needs to know about a family is looked up here, so it never branches on a provider's name.
 */

/** What a provider family brings: its errors, its key header, its translator and its native routes. */
export interface ProviderFamily {
  /** Error body shape of every route of this family (native routes, and errors of its streams). */
  readonly errorShape: ErrorShape;
  /** The header its API expects the key in, exactly as its SDK sends it; none for in-process families. */
  readonly auth: { readonly name: string; readonly prefix: string } | undefined;
  /** Translates `/v1/chat/completions` to and from the family's own API. */
  readonly translator: ChatTranslator;
  /** The format of the family's streams as the translator reads them. */
  readonly streamFormat: WireFormat;
  /** The family's native endpoints (`/<provider>/<path>`), with the upstream path each forwards to. */
  readonly nativeEndpoints: readonly NativeEndpoint[];
  /**
   * Builds a request (in the family's own format) that continues delivered text from an answer cut
   * mid-stream; absent, or undefined for a request that cannot be prefilled: no prefill continuation.
   */
  readonly prefill?: (
    body: JsonObject,
    text: string,
    style: PrefillStyle,
    used: number,
  ) => Prefill | undefined;
}

/** Every provider family. */
export const FAMILIES: Readonly<Record<ApiFamily, ProviderFamily>> = {
  openai: {
    errorShape: "openai",
    auth: { name: "authorization", prefix: "Bearer " },
    translator: openAiTranslator,
    streamFormat: openAiChatFormat,
    nativeEndpoints: NATIVE_ENDPOINTS.openai,
    prefill: chatPrefill,
  },
  anthropic: {
    errorShape: "anthropic",
    auth: { name: "x-api-key", prefix: "" },
    translator: anthropicTranslator,
    streamFormat: anthropicFormat,
    nativeEndpoints: NATIVE_ENDPOINTS.anthropic,
    // Anthropic has one prefill style: the trailing assistant message.
    prefill: (body, text, _style, used) => anthropicPrefill(body, text, used),
  },
  gemini: {
    errorShape: "gemini",
    auth: { name: "x-goog-api-key", prefix: "" },
    translator: geminiTranslator,
    streamFormat: geminiFormat,
    nativeEndpoints: NATIVE_ENDPOINTS.gemini,
  },
  // Reached through the AI binding (no key header), only via the unified endpoint.
  "workers-ai": {
    errorShape: "openai",
    auth: undefined,
    translator: workersAiTranslator,
    streamFormat: workersAiFormat,
    nativeEndpoints: NATIVE_ENDPOINTS["workers-ai"],
  },
};

/** Every wire format by name, so a stream's format can be recorded and found again (e.g. by the Durable Object). */
export const FORMATS: Readonly<Record<FormatName, WireFormat>> = {
  "openai-chat": openAiChatFormat,
  "openai-responses": openAiResponsesFormat,
  anthropic: anthropicFormat,
  gemini: geminiFormat,
  "workers-ai": workersAiFormat,
};

/** True when `name` is a known format name. */
export function isFormatName(name: unknown): name is FormatName {
  return typeof name === "string" && Object.hasOwn(FORMATS, name);
}

/** Finds the native endpoint for `path` (the part after `/<provider>`), or answers 404 naming the path. */
export function matchNative(family: ApiFamily, path: string): NativeMatch {
  for (const endpoint of FAMILIES[family].nativeEndpoints) {
    const m = endpoint.pattern.exec(path);
    if (m !== null) return endpoint.build(m);
  }
  throw new GatewayError(404, ERROR_CODE.notFound, `no ${family} endpoint at "${path.slice(0, 100)}"`);
}
