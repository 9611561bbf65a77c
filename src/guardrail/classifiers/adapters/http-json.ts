import type { ClassifyResult } from "../types.ts";

/** A classifier's answer is read only this far: every service's verdict is a few hundred bytes. */
const MAX_ANSWER_BYTES = 256 * 1024;

/** A successful JSON answer, or a failure the caller turns into `onError` (never the body: it may echo the text). */
export type JsonAnswer =
  | { readonly ok: true; readonly json: unknown }
  | { readonly ok: false; readonly reason: string };

/** POSTs `body` as JSON to `url`; any failure (network, status, not JSON) comes back as a reason. */
export async function postJson(
  fetcher: typeof fetch,
  url: string,
  body: unknown,
  headers: Record<string, string>,
  signal: AbortSignal,
): Promise<JsonAnswer> {
  let res: Response;
  try {
    res = await fetcher(url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json", ...headers },
      body: JSON.stringify(body),
      signal,
    });
  } catch {
    return { ok: false, reason: signal.aborted ? "timeout" : "unreachable" };
  }
  if (!res.ok) {
    await res.body?.cancel().catch(() => {});
    return { ok: false, reason: `http ${res.status}` };
  }
  try {
    const text = await res.text();
    if (text.length > MAX_ANSWER_BYTES) return { ok: false, reason: "answer too large" };
    return { ok: true, json: JSON.parse(text) };
  } catch {
    return { ok: false, reason: signal.aborted ? "timeout" : "answer not JSON" };
  }
}

/** An object's field, when it is an object. */
export function field(value: unknown, key: string): unknown {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)[key]
    : undefined;
}

/** A verdict read from an answer, or a failure when `flagged` is not a boolean. */
export function verdict(flagged: unknown, categories: readonly string[]): ClassifyResult {
  return typeof flagged === "boolean"
    ? { ok: true, flagged, categories: flagged ? categories : [] }
    : { ok: false, reason: "unexpected answer" };
}

/** `Authorization: Bearer <key>` when there is a key. */
export function bearer(key: string | undefined): Record<string, string> {
  return key === undefined ? {} : { authorization: `Bearer ${key}` };
}
