import { serverTimingHeader } from "../analytics/server-timing.ts";
import { GatewayError } from "../errors.ts";
import { copyResponseHeaders, upstreamRequestHeaders } from "../http/upstream-headers.ts";
import { StreamState } from "../pipeline/stream-state.ts";
import { ERROR_CODE, EVENT_STREAM_TYPE, HEADER, STREAM_OUTCOME } from "../protocol.ts";
import { callUpstream } from "../upstream/call.ts";
import { type Provider, requireProvider } from "../upstream/providers.ts";
import type { Attempt } from "./plan.ts";
import type { GatewayConfig } from "./settings.ts";

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

/** An upstream response with its stream's shared state and the means to abort it. */
export interface OpenExchange {
  readonly upstream: Response;
  readonly isStream: boolean;
  readonly state: StreamState;
  readonly abort: AbortController;
  /** The response headers the client gets (the upstream's safe ones, server timing). */
  readonly headers: Headers;
}

/** How an attempt is sent: on behalf of which client, and who watches its state. */
export interface AttemptCall {
  /** The client's headers; only allow-listed ones are forwarded. */
  readonly clientHeaders: Headers;
  /** The client's disconnect (`request.signal`, with `enable_request_signal`), if it is connected. */
  readonly clientGone?: AbortSignal;
  readonly config: GatewayConfig;
  /** When the gateway received the request (epoch ms): the start of its TTFT and `gateway;dur`. */
  readonly receivedAt: number;
}

/**
 * Sends one attempt upstream and waits for its response headers. The client's disconnect aborts it,
 * so no tokens are paid for after the client has gone. Upstream HTTP errors throw (callUpstream).
 */
export async function openAttempt(attempt: Attempt, call: AttemptCall): Promise<OpenExchange> {
  const provider = requireProvider(call.config.providers, attempt.provider);
  requireKey(provider);
  const abort = new AbortController();
  const state = new StreamState();
  state.metrics.requestReceived(call.receivedAt);
  call.clientGone?.addEventListener("abort", () => {
    state.finish(STREAM_OUTCOME.cancelled);
    abort.abort("client disconnected");
  });
  state.metrics.upstreamSent(Date.now());
  const upstream = await callUpstream(
    provider,
    {
      url: `${provider.baseUrl}${attempt.path}`,
      headers: upstreamRequestHeaders(call.clientHeaders, provider, attempt.headers),
      body: attempt.body,
    },
    call.config.upstreamTimeoutMs,
    abort,
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
