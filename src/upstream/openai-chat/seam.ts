import { ERROR_CODE } from "../../protocol.ts";
import { sseEvent } from "../../sse/encode.ts";
import type { SseEvent } from "../../sse/types.ts";
import type { EventInfo, InBandError, Seam, SeamResult, SeamSpec } from "../format.ts";
import { arr, isObject, type JsonObject, num, obj, str, tryParse } from "../json.ts";
import { COMPLETE, inspectChunk } from "./chunk-info.ts";

/**
 * Chatter a model writes when it restarts instead of continuing ("Sure! Continuing:"): a prefill
 * continuation that opens with it is rejected, never forwarded.
 */
const PREAMBLE =
  /^\s*(?:sure|okay|ok|certainly|of course|here(?:'s| is)|continuing|as i was saying)\b[^\n]{0,60}[:!.]?\s*\n/i;
/** How much of a prefill continuation is held, at most, before the preamble check decides. */
const PREAMBLE_HOLD_CHARS = 80;

const fail = (message: string): SeamResult => ({
  ok: false,
  error: { code: ERROR_CODE.upstreamInterrupted, message } satisfies InBandError,
});

/** Delta fields that are not the answer's content: a continuation carrying them is not one answer. */
const OTHER_TEXT = [
  "tool_calls",
  "refusal",
  "reasoning",
  "reasoning_content",
  "function_call",
  "audio",
] as const;

/** Chunk fields that name the answer: kept from its first attempt on every continued chunk. */
const IDENTITY = ["id", "created", "model", "system_fingerprint"] as const;

/** One continued chunk as the client gets it. */
function event(chunk: JsonObject): { ev: SseEvent; info: EventInfo } {
  return { ev: sseEvent({ data: JSON.stringify(chunk) }), info: inspectChunk(chunk) };
}

/**
 * The seam of a Chat Completions stream continued from another attempt: every continued chunk keeps
 * the first attempt's identity (`id`, `created`, `model`, `system_fingerprint`), loses its role (the
 * client got one already), and carries only text that follows what was delivered. A replay's text is
 * checked against the delivered text character by character and only what follows it is forwarded;
 * a prefill's text is forwarded after the whitespace the prefill left out, once enough of it (a line,
 * or PREAMBLE_HOLD_CHARS) shows that it does not open with a preamble. Anything else (a divergence, a
 * replay that ends before catching up, a tool call or reasoning) fails the continuation.
 */
export function chatSeam(spec: SeamSpec): Seam {
  let pending = spec.mode === "replay" ? spec.delivered : "";
  let leading = spec.mode === "prefill" ? spec.seamWhitespace : "";
  // Prefill only: chunks held until the preamble check has seen enough of the continuation's text.
  let judged = spec.mode !== "prefill";
  const held: JsonObject[] = [];
  let heldText = "";
  const first = tryParse(spec.firstData ?? "");
  const identity = IDENTITY.map((k) => [k, isObject(first) ? first[k] : undefined] as const);

  /** Decides on what is held: a preamble fails the continuation, anything else is released. */
  const judge = (): SeamResult => {
    if (PREAMBLE.test(heldText))
      return fail("the continuation started with a preamble instead of continuing the text");
    judged = true;
    return { ok: true, events: held.splice(0).map(event) };
  };

  return {
    push(ev: SseEvent): SeamResult {
      if (!ev.hasData) return { ok: true, events: [] };
      if (ev.data === "[DONE]") {
        if (pending !== "") return fail("the replayed answer ended before it reproduced the delivered text");
        const released = judged ? { ok: true as const, events: [] } : judge();
        return released.ok ? { ok: true, events: [...released.events, { ev, info: COMPLETE }] } : released;
      }
      const chunk = tryParse(ev.data);
      if (!isObject(chunk) || chunk.error !== undefined || ev.event === "error") {
        return fail("the continuing attempt failed too");
      }
      for (const [k, v] of identity) if (v !== undefined) chunk[k] = v;
      const usage = obj(chunk, "usage");
      if (usage !== undefined && spec.priorOutputTokens > 0) {
        usage.completion_tokens = (num(usage, "completion_tokens") ?? 0) + spec.priorOutputTokens;
        usage.total_tokens = (num(usage, "total_tokens") ?? 0) + spec.priorOutputTokens;
      }
      let keep = usage !== undefined;
      let finished = false;
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
          // The delivered whitespace the prefill left out, however the continuation splits it.
          while (leading !== "" && text !== "") {
            if (text[0] !== leading[0]) leading = "";
            else {
              text = text.slice(1);
              leading = leading.slice(1);
            }
          }
          if (text === "") delete delta.content;
          else {
            delta.content = text;
            keep = true;
            if (!judged) heldText += text;
          }
        }
        const finish = choice.finish_reason;
        if (finish !== undefined && finish !== null) {
          if (pending !== "")
            return fail("the replayed answer ended before it reproduced the delivered text");
          keep = true;
          finished = true;
        }
      }
      if (!keep) return { ok: true, events: [] };
      if (judged) return { ok: true, events: [event(chunk)] };
      held.push(chunk);
      return finished || heldText.includes("\n") || heldText.length >= PREAMBLE_HOLD_CHARS
        ? judge()
        : { ok: true, events: [] };
    },
  };
}
