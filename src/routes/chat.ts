import { configFor } from "../config.ts";
import type { Env } from "../env.ts";
import { GatewayError } from "../errors.ts";
import { readJsonBody } from "../http/body.ts";
import { TranslateStage } from "../pipeline/translate-stage.ts";
import { ERROR_CODE } from "../protocol.ts";
import { resolveModel } from "../upstream/models.ts";
import { openAiChatFormat } from "../upstream/openai-chat/format.ts";
import { parseChatRequest } from "../upstream/openai-chat/request.ts";
import type { ChunkIdentity } from "../upstream/translator.ts";
import { openExchange, streamResponse } from "./stream-response.ts";

function completionId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return `chatcmpl-${[...bytes].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/**
 * `POST /v1/chat/completions`: one OpenAI-compatible endpoint for every provider. The model's
 * `<provider>/` prefix picks the upstream; its translator converts the request and the stream.
 */
export async function handleChat(request: Request, env: Env): Promise<Response> {
  const config = configFor(env);
  const body = await readJsonBody(request, config.maxBodyBytes);
  const req = parseChatRequest(body.json);
  const route = resolveModel(req.model, config.providers, config.aliases);
  const stream = req.stream === true;
  const call = route.translator.buildRequest(req, route.upstreamModel, stream);
  const identity: ChunkIdentity = {
    id: completionId(),
    created: Math.floor(Date.now() / 1000),
    model: req.model,
    includeUsage: req.stream_options?.include_usage === true,
  };
  const x = await openExchange({
    request,
    config,
    provider: route.provider,
    path: call.path,
    body: JSON.stringify(call.body),
    ...(call.headers === undefined ? {} : { headers: call.headers }),
  });
  if (stream) {
    if (!x.isStream) {
      await x.upstream.body?.cancel();
      throw new GatewayError(
        502,
        ERROR_CODE.upstreamError,
        `provider "${route.provider.name}" did not answer with a stream`,
      );
    }
    const translate = new TranslateStage(route.translator.createStream(identity), openAiChatFormat, x.state);
    return streamResponse(x, openAiChatFormat, translate);
  }
  let json: unknown;
  try {
    json = await x.upstream.json();
  } catch {
    throw new GatewayError(
      502,
      ERROR_CODE.upstreamError,
      `provider "${route.provider.name}" sent a response that is not JSON`,
    );
  }
  x.headers.set("content-type", "application/json");
  return new Response(JSON.stringify(route.translator.translateResponse(json, identity)), {
    headers: x.headers,
  });
}
