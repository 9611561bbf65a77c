import { arr, type JsonObject } from "../json.ts";
import type { Prefill, PrefillStyle } from "../translator.ts";

/**
 * A Chat Completions request that continues `text` as the final assistant message: vLLM's
 * `continue_final_message: true` with `add_generation_prompt: false` (`prefill`), or the message
 * marked `prefix: true` as DeepSeek and Mistral take it (`prefill-prefix`).
 */
export function chatPrefill(body: JsonObject, text: string, style: PrefillStyle): Prefill {
  const assistant =
    style === "prefill-prefix"
      ? { role: "assistant", content: text, prefix: true }
      : { role: "assistant", content: text };
  const messages = [...arr(body, "messages"), assistant];
  const extra = style === "prefill" ? { continue_final_message: true, add_generation_prompt: false } : {};
  return { body: { ...body, ...extra, messages }, seamWhitespace: "" };
}
