import { configFor } from "../config.ts";
import type { Env } from "../env.ts";
import { GatewayError } from "../errors.ts";
import { optionalBoolean, readJsonBody, requiredString } from "../http/body.ts";
import { copyResponseHeaders, upstreamRequestHeaders } from "../http/upstream-headers.ts";
import { buildPipeline } from "../pipeline/build.ts";
import { StreamState } from "../pipeline/stream-state.ts";
import { ERROR_CODE, EVENT_STREAM_TYPE, SSE_RESPONSE_HEADERS, STREAM_OUTCOME } from "../protocol.ts";
import { callUpstream } from "../upstream/call.ts";
import { type Provider, requireProvider } from "../upstream/providers.ts";
import { matchNative } from "./native-endpoints.ts";

/** Fails with 503 naming the missing secret when a provider that needs a key has none. */
export function requireKey(provider: Provider): void {
  if (provider.keySecret !== undefined && provider.apiKey === undefined) {
    throw new GatewayError(
      503,
      ERROR_CODE.providerNotConfigured,
      `provider "${provider.name}" is not configured: set the secret ${provider.keySecret}`,
    );
  }
}

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
  requireKey(provider);

  const abort = new AbortController();
  const state = new StreamState();
  // With `enable_request_signal`, this fires when the client disconnects: stop paying for tokens.
  request.signal.addEventListener("abort", () => {
    state.finish(STREAM_OUTCOME.cancelled);
    abort.abort("client disconnected");
  });
  const upstream = await callUpstream(
    provider,
    {
      url: `${provider.baseUrl}${endpoint.upstreamPath}`,
      headers: upstreamRequestHeaders(request.headers, provider),
      body: body.bytes,
    },
    config.upstreamTimeoutMs,
    abort.signal,
  );
  const headers = new Headers();
  copyResponseHeaders(upstream.headers, headers);
  const isStream = (upstream.headers.get("content-type") ?? "").toLowerCase().startsWith(EVENT_STREAM_TYPE);
  if (!isStream || upstream.body === null) {
    headers.set("content-type", upstream.headers.get("content-type") ?? "application/json");
    return new Response(upstream.body, { status: upstream.status, headers });
  }
  for (const [k, v] of Object.entries(SSE_RESPONSE_HEADERS)) headers.set(k, v);
  const stream = buildPipeline({
    body: upstream.body,
    format: endpoint.format,
    state,
    abortUpstream: (reason) => abort.abort(reason),
  });
  return new Response(stream, { status: 200, headers });
}
