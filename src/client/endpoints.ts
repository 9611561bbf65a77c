import { CLIENT_HEADER, MEDIA_TYPE, STREAM_ROUTE } from "./protocol.ts";

/**
 * `${origin}/v1/streams/{id}` for the origin of the chat `url`, whatever route posted the chat
 * (native routes share the one stream endpoint). The resume token, when the gateway issued one, goes
 * in the query so that a plain GET (and the browser's EventSource) can carry it.
 */
export function streamUrl(chatUrl: string, streamId: string, token: string | null): string {
  const url = new URL(`${STREAM_ROUTE.prefix}${encodeURIComponent(streamId)}`, originOf(chatUrl));
  if (token !== null) url.searchParams.set(STREAM_ROUTE.tokenParam, token);
  return url.href;
}

// In a page a relative URL ("/v1/chat/completions") is resolved against the page, as fetch does;
// outside a page there is no base, and a relative URL is an error the caller should see.
function originOf(chatUrl: string): string {
  const page = (globalThis as { readonly location?: { readonly href?: unknown } }).location;
  const base = typeof page?.href === "string" ? page.href : undefined;
  return new URL(chatUrl, base).origin;
}

/** Headers for the chat POST: the caller's, plus JSON in and an event stream out. */
export function postHeaders(init: HeadersInit | undefined): Headers {
  const headers = new Headers(init);
  headers.set(CLIENT_HEADER.contentType, MEDIA_TYPE.json);
  headers.set(CLIENT_HEADER.accept, MEDIA_TYPE.eventStream);
  return headers;
}

/**
 * Headers for resume and cancel: the caller's credentials (the gateway requires the creator's to
 * resume), without the body headers that would make a bodiless request malformed.
 */
export function followUpHeaders(init: HeadersInit | undefined, accept: string): Headers {
  const headers = new Headers(init);
  headers.delete(CLIENT_HEADER.contentType);
  headers.delete(CLIENT_HEADER.contentLength);
  headers.set(CLIENT_HEADER.accept, accept);
  return headers;
}
