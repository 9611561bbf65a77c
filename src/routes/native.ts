import { configFor } from "../config.ts";
import type { Env } from "../env.ts";
import { optionalBoolean, readJsonBody, requiredString } from "../http/body.ts";
import { requireProvider } from "../upstream/providers.ts";
import { matchNative } from "./native-endpoints.ts";
import { openExchange, streamResponse } from "./stream-response.ts";

/**
 * `POST /<provider>/<native path>`: forwards the client's request body unchanged to the provider's
 * own endpoint and streams the answer back through the pipeline (or passes a JSON answer through).
 */
export async function handleNative(
  request: Request,
  env: Env,
  providerName: string,
  path: string,
): Promise<Response> {
  const config = configFor(env);
  const provider = requireProvider(config.providers, providerName);
  const endpoint = matchNative(provider.family, path);
  const body = await readJsonBody(request, config.maxBodyBytes);
  if (endpoint.pathModel === undefined) requiredString(body.json, "model");
  optionalBoolean(body.json, "stream");

  const x = await openExchange({ request, config, provider, path: endpoint.upstreamPath, body: body.bytes });
  if (x.isStream) return streamResponse(x, endpoint.format);
  x.headers.set("content-type", x.upstream.headers.get("content-type") ?? "application/json");
  return new Response(x.upstream.body, { status: x.upstream.status, headers: x.headers });
}
