import { configFor } from "../config.ts";
import type { Env } from "../env.ts";
import { optionalBoolean, readJsonBody, requiredString } from "../http/body.ts";
import { requireProvider } from "../upstream/providers.ts";
import { matchNative } from "./native-endpoints.ts";
import { planContext, type StreamPlan } from "./plan.ts";
import { principalOf, runPlan } from "./run-plan.ts";

/**
 * `POST /<provider>/<native path>`: forwards the client's request body unchanged to the provider's
 * own endpoint and streams the answer back (resumable by default), or passes a JSON answer through.
 */
export async function handleNative(
  request: Request,
  env: Env,
  providerName: string,
  path: string,
): Promise<Response> {
  const receivedAt = Date.now();
  const config = configFor(env);
  const provider = requireProvider(config.providers, providerName);
  const endpoint = matchNative(provider.family, path);
  const body = await readJsonBody(request, config.maxBodyBytes);
  const model = endpoint.pathModel ?? requiredString(body.json, "model");
  const stream = endpoint.stream ?? optionalBoolean(body.json, "stream") === true;
  const plan: StreamPlan = {
    provider: provider.name,
    route: "native",
    model: `${provider.name}/${model}`,
    path: endpoint.upstreamPath,
    body: new TextDecoder().decode(body.bytes),
    headers: {},
    format: endpoint.format.name,
    stream,
    ...planContext(request, receivedAt, principalOf(request)),
  };
  return runPlan(plan, request, env);
}
