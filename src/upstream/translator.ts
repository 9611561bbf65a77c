import type { SseEvent } from "../sse/types.ts";
import type { EventInfo, InBandError } from "./format.ts";
import type { JsonObject } from "./json.ts";
import type { ChatChunk, ChatCompletion, ChatRequest, ChatUsage } from "./openai-chat/types.ts";

/** The upstream request a translator builds: path relative to the provider's base URL, and JSON body. */
export interface UpstreamCall {
  /** Path appended to the provider's base URL, e.g. `/v1/messages` or `/v1beta/models/x:streamGenerateContent?alt=sse`. */
  readonly path: string;
  readonly body: unknown;
  /** Extra request headers the format needs (e.g. `anthropic-version`); never credentials. */
  readonly headers?: Readonly<Record<string, string>>;
}

/** Identity of the OpenAI stream being produced, shared by every chunk. */
export interface ChunkIdentity {
  readonly id: string;
  readonly created: number;
  /** Model name as the client asked for it (e.g. `anthropic/claude-sonnet-4-5`). */
  readonly model: string;
  /** Emit a final usage chunk (`choices: []`) only when the client set `stream_options.include_usage`. */
  readonly includeUsage: boolean;
}

/** How a prefill is sent (see ContinuationStrategy in providers.ts). */
export type PrefillStyle = "prefill" | "prefill-prefix";

/**
 * The limit left for a continuation: the client's `field` minus the tokens already produced, so the
 * continued answer stops where one uninterrupted answer would have. Undefined when nothing is left
 * (the caller then cannot prefill); the body unchanged when it sets no limit.
 */
export function limitLeft(body: JsonObject, field: string, used: number): JsonObject | undefined {
  const limit = body[field];
  if (typeof limit !== "number") return body;
  const left = Math.floor(limit - used);
  return left >= 1 ? { ...body, [field]: left } : undefined;
}

/** A request that continues delivered text, and the delivered whitespace it had to leave out. */
export interface Prefill {
  readonly body: JsonObject;
  readonly seamWhitespace: string;
}

/** One output step of a stream translator. */
export type TranslateStep =
  | { readonly kind: "chunk"; readonly chunk: ChatChunk }
  /**
   * An upstream event that is already an OpenAI chunk, forwarded byte for byte, with what the
   * translator already read out of it (so the chunk is parsed once), when it did.
   */
  | { readonly kind: "event"; readonly ev: SseEvent; readonly info?: EventInfo }
  /** The upstream really finished: the caller sends `data: [DONE]`. */
  | { readonly kind: "done" }
  /** The upstream failed or was cut: the caller sends an in-band error and no `[DONE]`. */
  | { readonly kind: "error"; readonly error: InBandError };

/** Per-stream state machine from one provider's SSE events to OpenAI chunks. */
export interface StreamTranslator {
  /** Translates one upstream event; may return nothing (ping) or several chunks. */
  push(ev: SseEvent): TranslateStep[];
  /**
   * The upstream body ended. `cleanEof` is false when the read failed. Returns the final steps: they end
   * with `done` only when the upstream signalled a normal finish, otherwise with `error`.
   */
  end(cleanEof: boolean): TranslateStep[];
  /** Exact usage once the upstream reported it (for analytics), whether or not the client asked for it. */
  readonly usage: ChatUsage | undefined;
  /**
   * Whole events skipped because their data was not JSON (a proxy or CDN that rewrote the body):
   * never forwarded as garbage the client's SDK would choke on, and counted for analytics.
   */
  readonly malformed: number;
}

/**
 * Translates OpenAI Chat Completions to and from one provider format. Request translation throws
 * `GatewayError(400, unsupported_parameter, ...)` naming any field the provider cannot honour.
 */
export interface ChatTranslator {
  /** Builds the upstream call for `upstreamModel` (the part after `provider/`). */
  buildRequest(req: ChatRequest, upstreamModel: string, stream: boolean): UpstreamCall;
  /** A fresh stream translator for one response. */
  createStream(identity: ChunkIdentity): StreamTranslator;
  /** Translates a non-streaming upstream JSON response (already parsed) into a `chat.completion`. */
  translateResponse(body: unknown, identity: ChunkIdentity): ChatCompletion;
}
