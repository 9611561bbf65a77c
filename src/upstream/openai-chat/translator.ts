import { GatewayError } from "../../errors.ts";
import { ERROR_CODE } from "../../protocol.ts";
import type { SseEvent } from "../../sse/types.ts";
import { isObject, num, obj, tryParse } from "../json.ts";
import type { ChatTranslator, ChunkIdentity, StreamTranslator, TranslateStep } from "../translator.ts";
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

/** Cheap pre-check so only candidate events are parsed: the usage chunk has empty `choices` and a usage object. */
function isUsageOnly(ev: SseEvent): ChatUsage | undefined {
  if (!ev.data.includes('"usage"') || !/"choices"\s*:\s*\[\s*\]/.test(ev.data)) return undefined;
  const chunk = tryParse(ev.data);
  const usage = isObject(chunk) ? obj(chunk, "usage") : undefined;
  if (usage === undefined) return undefined;
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
  readonly #includeUsage: boolean;

  constructor(identity: ChunkIdentity) {
    this.#includeUsage = identity.includeUsage;
  }

  push(ev: SseEvent): TranslateStep[] {
    const usage = ev.hasData ? isUsageOnly(ev) : undefined;
    if (usage !== undefined) {
      this.usage = usage;
      if (!this.#includeUsage) return [];
    }
    return [{ kind: "event", ev }];
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
