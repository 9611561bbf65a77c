import { assertMayUseModel, authenticate, type Principal } from "../auth/principal.ts";
import { checkRateLimit } from "../auth/rate-limit.ts";
import { exchangeContext, streamHost } from "../bindings.ts";
import { configFor } from "../config.ts";
import type { Env } from "../env.ts";
import { GatewayError } from "../errors.ts";
import { continuable, replayable } from "../exchange/continuable.ts";
import type { Attempt, StreamPlan } from "../exchange/plan.ts";
import { runPlan } from "../exchange/run.ts";
import { classifyPrompt, userTextFor } from "../guardrail/classifiers/prompt.ts";
import { guardPrompt } from "../guardrail/request-body.ts";
import { readJsonBody } from "../http/body.ts";
import { ERROR_CODE } from "../protocol.ts";
import { type ModelRoute, resolveChain } from "../upstream/models.ts";
import { parseChatRequest } from "../upstream/openai-chat/request.ts";
import type { ChunkIdentity } from "../upstream/translator.ts";

/** A route's canonical `<provider>/<model>`. */
function targetOf(route: ModelRoute): string {
  return `${route.provider.name}/${route.upstreamModel}`;
}

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
  return runChat({ request, env, principal, json: body.json, receivedAt, route: "unified" });
}

/** One Chat Completions exchange to run, whichever public route received it. */
export interface ChatCall {
  readonly request: Request;
  readonly env: Env;
  /** Already authenticated and rate-limited by the route. */
  readonly principal: Principal;
  /** The Chat Completions body (the route's own, or one it translated into). */
  readonly json: Record<string, unknown>;
  readonly receivedAt: number;
  /** The route family, for analytics and status (`unified`, `ui`). */
  readonly route: string;
}

/**
 * The exchange behind `/v1/chat/completions` and every route that speaks another client protocol
 * over it: the prompt guard, the request parser, the allow-list, the fallback chain, then the plan
 * run (resumable or direct). Its answer is the OpenAI-chunk stream (or JSON) the route then relays.
 */
export async function runChat(call: ChatCall): Promise<Response> {
  const { request, env, principal } = call;
  const config = configFor(env);
  guardPrompt(call.json, config.guardrail);
  await classifyPrompt(config.classifiers, config.guardrail.mode, call.json);
  const userText = userTextFor(config.classifiers, config.guardrail.mode, call.json);
  const req = parseChatRequest(call.json);
  // The chain: the request's `models`, else its `model`; an alias expands to its own chain.
  const chain = resolveChain(req.models ?? [req.model], config.providers, config.aliases);
  // Allow-lists name the canonical `<provider>/<model>`, whatever alias the client used: every
  // target is checked before any upstream call.
  for (const route of chain) assertMayUseModel(principal, targetOf(route), env);
  const stream = req.stream === true;
  const id = completionId();
  const created = Math.floor(Date.now() / 1000);
  const includeUsage = req.stream_options?.include_usage === true;
  const attempts = chain.map((route): Attempt => {
    const target = targetOf(route);
    const upstream = route.translator.buildRequest(req, route.upstreamModel, stream);
    // A translated answer names the target that answered in its `model` field.
    const identity: ChunkIdentity = { id, created, model: target, includeUsage };
    return {
      target,
      provider: route.provider.name,
      path: upstream.path,
      body: JSON.stringify(upstream.body),
      headers: upstream.headers ?? {},
      translate: { family: route.provider.family, identity },
    };
  });
  const [first, ...rest] = attempts;
  if (first === undefined) throw new GatewayError(400, ERROR_CODE.invalidRequest, "no model to call");
  const plan: StreamPlan = {
    route: call.route,
    // Canonical, whatever alias the client used: one model, one name in analytics and status.
    model: first.target,
    format: "openai-chat",
    stream,
    attempts: [first, ...rest],
    continuable: continuable(call.json, request.headers),
    replayable: replayable(call.json),
    ...(userText === undefined ? {} : { userText }),
    receivedAt: call.receivedAt,
    principal: principal.id,
  };
  return runPlan(plan, request, exchangeContext(env), streamHost(env, principal));
}
