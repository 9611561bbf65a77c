import { GatewayError } from "../errors.ts";
import { ERROR_CODE, HEADER } from "../protocol.ts";
import type { Provider } from "./providers.ts";

/** Upstream error bodies are read only this far: enough for any real error message. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;

/** What the gateway sends upstream. The URL is built from configuration, never from the request. */
export interface UpstreamRequest {
  readonly url: string;
  /** Lowercase names (see upstreamRequestHeaders). */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: BodyInit;
}

/**
 * Sends the request and waits for response headers, at most `timeoutMs`. Connection failures
 * become 502 and timeouts 504; a non-2xx answer becomes a GatewayError with the upstream's status
 * and a sanitized message (never the raw body, which could echo credentials).
 *
 * `abort` is the attempt's own controller (it also governs the body, later): the deadline aborts it,
 * since an attempt whose headers did not come in time is over. No controller of its own: on workerd
 * each one is a runtime object to make and collect, per request.
 */
export async function callUpstream(
  provider: Provider,
  req: UpstreamRequest,
  timeoutMs: number,
  abort: AbortController,
): Promise<Response> {
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    abort.abort("the upstream did not answer in time");
  }, timeoutMs);
  let res: Response;
  try {
    res = await provider.transport.fetch(req.url, {
      method: "POST",
      headers: req.headers,
      body: req.body,
      signal: abort.signal,
    });
  } catch {
    if (timedOut) {
      throw new GatewayError(
        504,
        ERROR_CODE.upstreamTimeout,
        `provider "${provider.name}" did not answer within ${timeoutMs} ms`,
      );
    }
    throw new GatewayError(
      502,
      ERROR_CODE.upstreamUnreachable,
      `could not connect to provider "${provider.name}"`,
    );
  } finally {
    clearTimeout(timer);
  }
  if (!res.ok) throw await upstreamHttpError(provider, res);
  return res;
}

/**
 * An upstream's non-2xx answer: the status and `retry-after` travel in the GatewayError; the
 * upstream's own error code (e.g. `context_length_exceeded`) is kept for the retry policy.
 */
export class UpstreamHttpError extends GatewayError {
  /** The upstream's `error.code` or `error.type` (or Google's `error.status`), if it sent one. */
  readonly upstreamCode: string | undefined;

  constructor(
    status: number,
    message: string,
    headers: Record<string, string>,
    upstreamCode: string | undefined,
  ) {
    super(status, ERROR_CODE.upstreamError, message, headers);
    this.upstreamCode = upstreamCode;
  }
}

async function upstreamHttpError(provider: Provider, res: Response): Promise<GatewayError> {
  const text = await readCapped(res);
  const message = sanitize(extractMessage(text), provider);
  const headers: Record<string, string> = {};
  const retryAfter = res.headers.get(HEADER.retryAfter);
  if (retryAfter !== null && /^[\w ,:+-]{1,64}$/.test(retryAfter)) headers[HEADER.retryAfter] = retryAfter;
  // Statuses outside 4xx/5xx (e.g. a 3xx the runtime did not follow) are reported as a bad gateway.
  const status = res.status >= 400 && res.status <= 599 ? res.status : 502;
  return new UpstreamHttpError(
    status,
    `provider "${provider.name}" returned HTTP ${res.status}${message ? `: ${message}` : ""}`,
    headers,
    extractCode(text),
  );
}

/** The upstream's error code, from OpenAI's `error.code`/`error.type`, Anthropic's `error.type`, Google's `error.status`. */
function extractCode(text: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    const first = Array.isArray(parsed) ? parsed[0] : parsed;
    if (typeof first !== "object" || first === null) return undefined;
    const err = (first as Record<string, unknown>).error;
    if (typeof err !== "object" || err === null) return undefined;
    const e = err as Record<string, unknown>;
    for (const key of ["code", "type", "status"]) {
      const v = e[key];
      if (typeof v === "string" && /^[\w.-]{1,64}$/.test(v)) return v;
    }
  } catch {
    // Not JSON: no code.
  }
  return undefined;
}

async function readCapped(res: Response): Promise<string> {
  if (res.body === null) return "";
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  let size = 0;
  try {
    while (size < MAX_ERROR_BODY_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      text += decoder.decode(value, { stream: true });
    }
  } catch {
    // A body that fails mid-read still yields the status; the message is best effort.
  } finally {
    reader.cancel().catch(() => {});
  }
  return text;
}

/** Finds the human message in the error shapes of OpenAI, Anthropic and Google (`error.message` or `message`). */
function extractMessage(text: string): string {
  try {
    const parsed: unknown = JSON.parse(text);
    const candidates = Array.isArray(parsed) ? parsed : [parsed];
    for (const c of candidates) {
      if (typeof c !== "object" || c === null) continue;
      const err = (c as Record<string, unknown>).error;
      if (typeof err === "object" && err !== null) {
        const m = (err as Record<string, unknown>).message;
        if (typeof m === "string") return m;
      }
      if (typeof err === "string") return err;
      const m = (c as Record<string, unknown>).message;
      if (typeof m === "string") return m;
    }
  } catch {
    // Not JSON (an HTML error page from a proxy): the status alone must do.
  }
  return "";
}

/** Strips anything key-like from an upstream message and bounds its length. */
function sanitize(message: string, provider: Provider): string {
  let m = message;
  if (provider.apiKey !== undefined && provider.apiKey.length >= 8)
    m = m.split(provider.apiKey).join("[key]");
  // Providers echo partial keys ("Incorrect API key provided: sk-abc***xyz"): mask every token-like run.
  m = m.replace(/\b(?:sk|pk|rk|key|AIza|xox[a-z])[-_A-Za-z0-9*]{8,}/g, "[key]");
  return m.length > 500 ? `${m.slice(0, 500)}…` : m;
}
