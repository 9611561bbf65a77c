import { GatewayError } from "../../errors.ts";
import { ERROR_CODE } from "../../protocol.ts";
import type { SseEvent } from "../../sse/types.ts";
import { isObject, type JsonObject, num, obj, tryParse } from "../json.ts";
import type { ChatTranslator, ChunkIdentity, StreamTranslator, TranslateStep } from "../translator.ts";
import { inspectChunk } from "./chunk-info.ts";
import type { ChatCompletion, ChatRequest, ChatUsage } from "./types.ts";

/** The request body for an OpenAI-compatible upstream: the client's fields, with the provider's model name. */
function buildBody(req: ChatRequest, upstreamModel: string, stream: boolean): Record<string, unknown> {
  // `models` is the gateway's own chain: an OpenRouter upstream would act on it.
  const { extra, model: _model, models: _models, stream_options, ...known } = req;
  return {
    ...extra,
    ...known,
    model: upstreamModel,
    stream,
    // Always ask for usage so the gateway knows exact token counts; the client sees it only if it asked.
    ...(stream ? { stream_options: { ...stream_options, include_usage: true } } : {}),
  };
}

/** The usage of a usage-only chunk (empty `choices` and a usage object), else undefined. */
function usageOnly(chunk: JsonObject): ChatUsage | undefined {
  const usage = obj(chunk, "usage");
  const choices = chunk.choices;
  if (usage === undefined || !Array.isArray(choices) || choices.length > 0) return undefined;
  const prompt = num(usage, "prompt_tokens") ?? 0;
  const completion = num(usage, "completion_tokens") ?? 0;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: num(usage, "total_tokens") ?? prompt + completion,
  };
}

class OpenAiPassStream implements StreamTranslator {
  usage: ChatUsage | undefined;
  malformed = 0;
  readonly #includeUsage: boolean;

  constructor(identity: ChunkIdentity) {
    this.#includeUsage = identity.includeUsage;
  }

  push(ev: SseEvent): TranslateStep[] {
    if (!ev.hasData || ev.data === "[DONE]") return [{ kind: "event", ev }];
    // Parsed once, here: the chunk's info travels with it, so the inspector does not parse it again.
    const chunk = tryParse(ev.data);
    if (!isObject(chunk)) {
      // Not a chunk: a whole event is counted and skipped; an open last one is what a cut left (the
      // missing [DONE] then says the stream was interrupted).
      if (ev.terminated) this.malformed++;
      return [];
    }
    const usage = usageOnly(chunk);
    if (usage !== undefined) {
      this.usage = usage;
      if (!this.#includeUsage) return [];
    }
    return [{ kind: "event", ev, info: inspectChunk(chunk, ev.event === "error") }];
  }

  end(): TranslateStep[] {
    // Completion and errors are judged downstream by the OpenAI chat format, as for native routes.
    return [];
  }
}

/** OpenAI and OpenAI-compatible upstreams: the request passes almost unchanged and events are forwarded as they are. */
export const openAiTranslator: ChatTranslator = {
  buildRequest: (req, upstreamModel, stream) => ({
    path: "/chat/completions",
    body: buildBody(req, upstreamModel, stream),
  }),
  createStream: (identity) => new OpenAiPassStream(identity),
  translateResponse: (body) => {
    // The upstream already speaks this format; only make sure it is a completion before passing it on.
    if (!isObject(body) || !Array.isArray(body.choices)) {
      throw new GatewayError(
        502,
        ERROR_CODE.upstreamError,
        "the upstream returned a response that is not a chat completion",
      );
    }
    return body as unknown as ChatCompletion;
  },
};
