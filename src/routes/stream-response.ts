import { serverTimingHeader } from "../analytics/server-timing.ts";
import type { GatewayConfig } from "../config.ts";
import { GatewayError } from "../errors.ts";
import { copyResponseHeaders, upstreamRequestHeaders } from "../http/upstream-headers.ts";
import { buildPipeline } from "../pipeline/build.ts";
import type { ItemStep } from "../pipeline/steps.ts";
import { StreamState } from "../pipeline/stream-state.ts";
import type { Translation } from "../pipeline/translation.ts";
import { ERROR_CODE, EVENT_STREAM_TYPE, HEADER, SSE_RESPONSE_HEADERS, STREAM_OUTCOME } from "../protocol.ts";
import { callUpstream } from "../upstream/call.ts";
import type { WireFormat } from "../upstream/format.ts";
import type { Provider } from "../upstream/providers.ts";

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

/** One upstream exchange as a route describes it. */
export interface Exchange {
  readonly request: Request;
  readonly config: GatewayConfig;
  readonly provider: Provider;
  /** Path appended to the provider's base URL. */
  readonly path: string;
  readonly body: BodyInit;
  /** Format-specific request headers (never credentials). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Receives the stream's state before the upstream call, so timings start in time. */
  readonly onState?: (state: StreamState) => void;
}

/** An upstream response with its stream's shared state and the means to abort it. */
export interface OpenExchange {
  readonly upstream: Response;
  readonly isStream: boolean;
  readonly state: StreamState;
  readonly abort: AbortController;
  readonly headers: Headers;
}

/**
 * Sends the request upstream. The client's disconnect (`request.signal`, with `enable_request_signal`)
 * aborts it, so no tokens are paid for after the client has gone.
 */
export async function openExchange(x: Exchange): Promise<OpenExchange> {
  requireKey(x.provider);
  const abort = new AbortController();
  const state = new StreamState();
  x.onState?.(state);
  x.request.signal.addEventListener("abort", () => {
    state.finish(STREAM_OUTCOME.cancelled);
    abort.abort("client disconnected");
  });
  state.metrics.upstreamSent(Date.now());
  const upstream = await callUpstream(
    x.provider,
    {
      url: `${x.provider.baseUrl}${x.path}`,
      headers: upstreamRequestHeaders(x.request.headers, x.provider, x.headers),
      body: x.body,
    },
    x.config.upstreamTimeoutMs,
    abort.signal,
  );
  state.metrics.upstreamHeaders(Date.now());
  state.upstreamRequestId =
    upstream.headers.get("x-request-id") ?? upstream.headers.get("request-id") ?? undefined;
  const headers = new Headers();
  copyResponseHeaders(upstream.headers, headers);
  const timing = serverTimingHeader(state.metrics.snapshot());
  if (timing !== undefined) headers.set(HEADER.serverTiming, timing);
  const isStream =
    upstream.body !== null &&
    (upstream.headers.get("content-type") ?? "").toLowerCase().startsWith(EVENT_STREAM_TYPE);
  return { upstream, isStream, state, abort, headers };
}

/** Streams an open SSE exchange to the client through the pipeline, in `format`. */
export function streamResponse(
  x: OpenExchange,
  format: WireFormat,
  translate?: Translation,
  steps: readonly ItemStep[] = [],
): Response {
  if (x.upstream.body === null)
    throw new GatewayError(502, ERROR_CODE.upstreamError, "the upstream sent no body");
  for (const [k, v] of Object.entries(SSE_RESPONSE_HEADERS)) x.headers.set(k, v);
  const stream = buildPipeline({
    body: x.upstream.body,
    format,
    state: x.state,
    abortUpstream: (reason) => x.abort.abort(reason),
    steps,
    ...(translate === undefined ? {} : { translate }),
  });
  return new Response(stream, { status: 200, headers: x.headers });
}
