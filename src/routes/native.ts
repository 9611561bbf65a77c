import { assertMayUseModel, authenticate, mayUseModel } from "../auth/principal.ts";
import { checkRateLimit } from "../auth/rate-limit.ts";
import { exchangeContext, streamHost } from "../bindings.ts";
import { configFor } from "../config.ts";
import type { Env } from "../env.ts";
import { continuable, replayable } from "../exchange/continuable.ts";
import type { Attempt, StreamPlan } from "../exchange/plan.ts";
import { runPlan } from "../exchange/run.ts";
import { classifyPrompt, userTextFor } from "../guardrail/classifiers/prompt.ts";
import { guardPrompt } from "../guardrail/request-body.ts";
import { optionalBoolean, readJsonBody, requiredString } from "../http/body.ts";
import { nativeTargets } from "../upstream/native-fallbacks.ts";
import { requireProvider } from "../upstream/providers.ts";
import { matchNative } from "../upstream/registry.ts";

/**
 * `POST /<provider>/<native path>`: forwards the client's request body unchanged to the provider's
 * own endpoint and streams the answer back (resumable by default), or passes a JSON answer through.
 * With `NATIVE_FALLBACKS`, targets of the same wire format follow it in the attempt list.
 */
export async function handleNative(
  request: Request,
  env: Env,
  providerName: string,
  path: string,
): Promise<Response> {
  const receivedAt = Date.now();
  const config = configFor(env);
  const principal = await authenticate(request, env);
  await checkRateLimit(request, env, principal);
  const provider = requireProvider(config.providers, providerName);
  const endpoint = matchNative(provider.family, path);
  const body = await readJsonBody(request, config.maxBodyBytes);
  const model = endpoint.pathModel ?? requiredString(body.json, "model");
  assertMayUseModel(principal, `${provider.name}/${model}`, env);
  const stream = endpoint.stream ?? optionalBoolean(body.json, "stream") === true;
  // The same rules as the output apply to the prompt, before any upstream call.
  const guarded = guardPrompt(body.json, config.guardrail);
  await classifyPrompt(config.classifiers, config.guardrail.mode, body.json);
  const userText = userTextFor(config.classifiers, config.guardrail.mode, body.json);
  const first: Attempt = {
    target: `${provider.name}/${model}`,
    provider: provider.name,
    path: endpoint.upstreamPath,
    // Unchanged prompts are forwarded byte for byte; a redacted one is re-serialized.
    body: guarded.changed ? JSON.stringify(body.json) : body.text,
    headers: {},
  };
  // Configured fallbacks speak the same wire format: the same body, naming the fallback's model. A
  // target the caller may not use is left out (the caller never asked for it).
  const fallbacks = nativeTargets(config.nativeFallbacks, config.providers, provider.name, model)
    .filter((t) => mayUseModel(principal, `${t.provider.name}/${t.model}`, env))
    .map(
      (t): Attempt => ({
        target: `${t.provider.name}/${t.model}`,
        provider: t.provider.name,
        path: endpoint.pathFor?.(t.model) ?? endpoint.upstreamPath,
        body:
          endpoint.pathModel === undefined ? JSON.stringify({ ...body.json, model: t.model }) : first.body,
        headers: {},
      }),
    );
  const plan: StreamPlan = {
    route: "native",
    model: `${provider.name}/${model}`,
    format: endpoint.format.name,
    stream,
    attempts: [first, ...fallbacks],
    continuable: continuable(body.json, request.headers),
    replayable: replayable(body.json),
    ...(userText === undefined ? {} : { userText }),
    receivedAt,
    principal: principal.id,
  };
  return runPlan(plan, request, exchangeContext(env), streamHost(env, principal));
}
