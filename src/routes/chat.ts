import { assertMayUseModel, authenticate } from "../auth/principal.ts";
import { checkRateLimit } from "../auth/rate-limit.ts";
import { exchangeContext, streamHost } from "../bindings.ts";
import { configFor } from "../config.ts";
import type { Env } from "../env.ts";
import { planContext, type StreamPlan } from "../exchange/plan.ts";
import { runPlan } from "../exchange/run.ts";
import { guardPrompt } from "../guardrail/request-body.ts";
import { readJsonBody } from "../http/body.ts";
import { resolveModel } from "../upstream/models.ts";
import { parseChatRequest } from "../upstream/openai-chat/request.ts";
import type { ChunkIdentity } from "../upstream/translator.ts";

function completionId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return `chatcmpl-${[...bytes].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/**
 * `POST /v1/chat/completions`: one OpenAI-compatible endpoint for every provider. The model's
 * `<provider>/` prefix picks the upstream; its translator converts the request and the stream.
 */
export async function handleChat(request: Request, env: Env): Promise<Response> {
  const receivedAt = Date.now();
  const config = configFor(env);
  const principal = await authenticate(request, env);
  await checkRateLimit(request, env, principal);
  const body = await readJsonBody(request, config.maxBodyBytes);
  guardPrompt(body.json, config.guardrail);
  const req = parseChatRequest(body.json);
  const route = resolveModel(req.model, config.providers, config.aliases);
  // Allow-lists name the canonical `<provider>/<model>`, whatever alias the client used.
  assertMayUseModel(principal, `${route.provider.name}/${route.upstreamModel}`, env);
  const stream = req.stream === true;
  const call = route.translator.buildRequest(req, route.upstreamModel, stream);
  const identity: ChunkIdentity = {
    id: completionId(),
    created: Math.floor(Date.now() / 1000),
    model: req.model,
    includeUsage: req.stream_options?.include_usage === true,
  };
  const plan: StreamPlan = {
    route: "unified",
    // Canonical, whatever alias the client used: one model, one name in analytics and status.
    model: `${route.provider.name}/${route.upstreamModel}`,
    format: "openai-chat",
    stream,
    attempts: [
      {
        provider: route.provider.name,
        path: call.path,
        body: JSON.stringify(call.body),
        headers: call.headers ?? {},
        translate: { family: route.provider.family, identity },
      },
    ],
    ...planContext(request, receivedAt, principal.id),
  };
  return runPlan(plan, request, exchangeContext(env), streamHost(env, principal));
}
