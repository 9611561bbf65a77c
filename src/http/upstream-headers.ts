import type { Provider } from "../upstream/providers.ts";
import { FAMILIES } from "../upstream/registry.ts";

/**
 * Request headers a client may pass on to the upstream. An allow-list, so client credentials,
 * cookies, hop-by-hop headers (RFC 9110 §7.6.1) and anything unknown never reach a provider.
 */
const FORWARDED_REQUEST_HEADERS = [
  "anthropic-version",
  "anthropic-beta",
  "openai-beta",
  "idempotency-key",
  "x-stainless-retry-count",
] as const;

/** Response headers worth returning from the upstream (request ids for support tickets, rate-limit hints). */
const FORWARDED_RESPONSE_HEADERS = [
  "x-request-id",
  "request-id",
  "retry-after",
  "openai-processing-ms",
] as const;

/**
 * Builds the upstream request headers: allow-listed client headers plus the provider's own auth
 * header, as a plain object with lowercase names (later ones replace earlier ones, as `Headers.set`
 * would). Not a `Headers`: `fetch` copies its init into a header list of its own either way, and on
 * workerd every `Headers` is one more runtime object made and collected per request.
 */
export function upstreamRequestHeaders(
  client: Headers,
  provider: Provider,
  extra: Readonly<Record<string, string>> = {},
): Record<string, string> {
  const h: Record<string, string> = {
    "content-type": "application/json",
    accept: "application/json, text/event-stream",
  };
  for (const name of FORWARDED_REQUEST_HEADERS) {
    const v = client.get(name);
    if (v !== null) h[name] = v;
  }
  for (const [k, v] of Object.entries(extra)) h[k.toLowerCase()] = v;
  const auth = FAMILIES[provider.family].auth;
  if (provider.apiKey !== undefined && auth !== undefined)
    h[auth.name.toLowerCase()] = `${auth.prefix}${provider.apiKey}`;
  return h;
}

/** The allow-listed client headers as a plain object (to hand a request over to the stream object). */
export function forwardableHeaders(client: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of FORWARDED_REQUEST_HEADERS) {
    const v = client.get(name);
    if (v !== null) out[name] = v;
  }
  return out;
}

/** Copies the safe, useful upstream response headers onto a gateway response's header set. */
export function copyResponseHeaders(from: Headers, to: Headers): void {
  for (const name of FORWARDED_RESPONSE_HEADERS) {
    const v = from.get(name);
    if (v !== null) to.set(name, v);
  }
}
