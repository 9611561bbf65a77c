/**
 * One-line diagnoses for a probe that could not run: nothing answers, a web page answers, the key is
 * missing or refused, JSON comes back instead of a stream. Pure: a capture in, a sentence out.
 */
import type { Capture } from "./capture.ts";

const MAX_MESSAGE_CHARS = 160;

/** The error message of an OpenAI, Anthropic or Google error body, if the sample is one. */
function errorMessageIn(sample: string): string | undefined {
  try {
    const body: unknown = JSON.parse(sample);
    if (typeof body !== "object" || body === null) return undefined;
    const error = "error" in body ? body.error : undefined;
    if (
      typeof error === "object" &&
      error !== null &&
      "message" in error &&
      typeof error.message === "string"
    ) {
      return error.message.replace(/\s+/g, " ").slice(0, MAX_MESSAGE_CHARS);
    }
    if (typeof error === "string") return error.slice(0, MAX_MESSAGE_CHARS);
  } catch {
    // not JSON
  }
  return undefined;
}

function said(sample: string): string {
  const message = errorMessageIn(sample);
  return message === undefined ? "" : ` (it says: ${message})`;
}

/** Why a failed connection failed, in words. */
function failure(url: URL, code: string, message: string): string {
  const where = url.host;
  switch (code) {
    case "ECONNREFUSED":
      return `nothing answers at ${where} (connection refused): is the gateway running, and is the port right?`;
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return `the host name ${url.hostname} does not resolve: check the URL`;
    case "ETIMEDOUT":
    case "ECONNRESET":
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return `no answer from ${where} (${message || code}): is the URL reachable from here?`;
    default:
      if (code.startsWith("ERR_TLS") || code.includes("CERT") || /certificate|ssl|tls/i.test(message)) {
        return `TLS with ${where} failed: ${message.slice(0, MAX_MESSAGE_CHARS)}`;
      }
      return `the request to ${where} failed: ${(message || code).slice(0, MAX_MESSAGE_CHARS)}`;
  }
}

/** A diagnosis when the probe could not be judged, or undefined when it recorded a stream. */
export function diagnose(url: URL, capture: Capture, keyGiven: boolean): string | undefined {
  if (capture.kind === "stream") return undefined;
  if (capture.kind === "failed") return failure(url, capture.code, capture.message);
  const { status, headers, sample } = capture;
  const type = (headers["content-type"] ?? "").toLowerCase();
  const isHtml = type.includes("text/html") || /^\s*<(!doctype|html)/i.test(sample);
  if (status === 401) {
    return keyGiven
      ? `401: the gateway refused the key${said(sample)}; check --key / $GATEWAY_KEY`
      : `401: the gateway wants a key: pass --key K (better: set GATEWAY_KEY)${said(sample)}`;
  }
  if (status === 403)
    return `403: this caller may not use demo/probe${said(sample)}; allow it for the key or in ANONYMOUS_MODELS`;
  if (status === 429) {
    const retry = headers["retry-after"];
    return `429: rate limited${retry === undefined ? "" : `, retry after ${retry} s`}${said(sample)}`;
  }
  if (isHtml) {
    return status >= 200 && status < 300
      ? `${url.href} answers an HTML page (HTTP ${status}), not an event stream: give the gateway's base URL`
      : `${url.href} answers HTTP ${status} with an HTML page: not the gateway's API (or an error page of a proxy in front of it)`;
  }
  if (status === 404) {
    return `404 at ${url.pathname}${said(sample)}: not a gateway, or one without the demo/probe model`;
  }
  if (status >= 200 && status < 300 && type.includes("json")) {
    return `${url.href} answers JSON instead of an event stream: a layer turned "stream": true off, or this is not the gateway`;
  }
  if (status >= 200 && status < 300) {
    return `${url.href} answers ${type || "no content-type"} instead of text/event-stream: not the gateway's streaming endpoint`;
  }
  return `HTTP ${status}${said(sample)}`;
}
