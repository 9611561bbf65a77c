import { ERROR_CODE } from "../../protocol.ts";
import { sseEvent } from "../../sse/encode.ts";
import type { SseEvent } from "../../sse/types.ts";
import type { InBandError, Seam, SeamResult, SeamSpec } from "../format.ts";
import { arr, isObject, num, obj, str, tryParse } from "../json.ts";
import { COMPLETE, inspectChunk } from "./chunk-info.ts";

/**
 * Chatter a model writes when it restarts instead of continuing ("Sure! Continuing:"): a prefill
 * continuation that opens with it is rejected, never forwarded.
 */
const PREAMBLE =
  /^\s*(?:sure|okay|ok|certainly|of course|here(?:'s| is)|continuing|as i was saying)\b[^\n]{0,60}[:!.]?\s*\n/i;

const fail = (message: string): SeamResult => ({
  ok: false,
  error: { code: ERROR_CODE.upstreamInterrupted, message } satisfies InBandError,
});

/** Delta fields that are not the answer's content: a continuation carrying them is not one answer. */
const OTHER_TEXT = ["tool_calls", "refusal", "reasoning", "reasoning_content", "function_call"] as const;

/**
 * The seam of a Chat Completions stream continued from another attempt: every continued chunk keeps
 * the first attempt's `id` and `created`, loses its role (the client got one already), and carries
 * only text that follows what was delivered. A replay's text is checked against the delivered text
 * character by character and only what follows it is forwarded; a prefill's text is forwarded after
 * the whitespace the prefill left out, unless it opens with a preamble. Anything else (a divergence,
 * a replay that ends before catching up, a tool call or reasoning) fails the continuation.
 */
export function chatSeam(spec: SeamSpec): Seam {
  let pending = spec.mode === "replay" ? spec.delivered : "";
  let leading = spec.mode === "prefill" ? spec.seamWhitespace : "";
  let started = false;
  // The first attempt's `id` and `created`, kept on every continued chunk.
  const first = tryParse(spec.firstData ?? "");
  const id = isObject(first) ? first.id : undefined;
  const created = isObject(first) ? first.created : undefined;
  return {
    push(ev: SseEvent): SeamResult {
      if (!ev.hasData) return { ok: true, events: [] };
      if (ev.data === "[DONE]") {
        if (pending !== "") return fail("the replayed answer ended before it reproduced the delivered text");
        return { ok: true, events: [{ ev, info: COMPLETE }] };
      }
      const chunk = tryParse(ev.data);
      if (!isObject(chunk) || chunk.error !== undefined || ev.event === "error") {
        return fail("the continuing attempt failed too");
      }
      if (id !== undefined) chunk.id = id;
      if (created !== undefined) chunk.created = created;
      const usage = obj(chunk, "usage");
      if (usage !== undefined && spec.priorOutputTokens > 0) {
        usage.completion_tokens = (num(usage, "completion_tokens") ?? 0) + spec.priorOutputTokens;
        usage.total_tokens = (num(usage, "total_tokens") ?? 0) + spec.priorOutputTokens;
      }
      let keep = usage !== undefined;
      for (const choice of arr(chunk, "choices")) {
        if (!isObject(choice)) continue;
        const delta = obj(choice, "delta");
        if (delta !== undefined) {
          delete delta.role;
          if (OTHER_TEXT.some((k) => delta[k] !== undefined && delta[k] !== null && delta[k] !== "")) {
            return fail("the continuing attempt wrote something other than the answer's text");
          }
          let text = str(delta, "content") ?? "";
          if (pending !== "" && text !== "") {
            const n = Math.min(text.length, pending.length);
            if (text.slice(0, n) !== pending.slice(0, n)) {
              return fail("the replayed answer diverged from the text already delivered");
            }
            pending = pending.slice(n);
            text = text.slice(n);
          }
          if (!started && text !== "") {
            if (leading !== "" && text.startsWith(leading)) text = text.slice(leading.length);
            leading = "";
            if (spec.mode === "prefill" && PREAMBLE.test(text)) {
              return fail("the continuation started with a preamble instead of continuing the text");
            }
            started = text !== "";
          }
          if (text === "") delete delta.content;
          else delta.content = text;
          if (text !== "") keep = true;
        }
        const finish = choice.finish_reason;
        if (finish !== undefined && finish !== null) {
          if (pending !== "")
            return fail("the replayed answer ended before it reproduced the delivered text");
          keep = true;
        }
      }
      if (!keep) return { ok: true, events: [] };
      return {
        ok: true,
        events: [{ ev: sseEvent({ data: JSON.stringify(chunk) }), info: inspectChunk(chunk) }],
      };
    },
  };
}
