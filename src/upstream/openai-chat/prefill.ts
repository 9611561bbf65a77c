import { arr, type JsonObject } from "../json.ts";
import { limitLeft, type Prefill, type PrefillStyle } from "../translator.ts";

/**
 * A Chat Completions request that continues `text` as the final assistant message: vLLM's
 * `continue_final_message: true` with `add_generation_prompt: false` (`prefill`), or the message
 * marked `prefix: true` as DeepSeek and Mistral take it (`prefill-prefix`). The token limits become
 * what is left after the `used` tokens; undefined when nothing is.
 */
export function chatPrefill(
  body: JsonObject,
  text: string,
  style: PrefillStyle,
  used: number,
): Prefill | undefined {
  const limited = limitLeft(body, "max_tokens", used);
  const both = limited === undefined ? undefined : limitLeft(limited, "max_completion_tokens", used);
  if (both === undefined) return undefined;
  const assistant =
    style === "prefill-prefix"
      ? { role: "assistant", content: text, prefix: true }
      : { role: "assistant", content: text };
  const messages = [...arr(body, "messages"), assistant];
  const extra = style === "prefill" ? { continue_final_message: true, add_generation_prompt: false } : {};
  return { body: { ...both, ...extra, messages }, seamWhitespace: "" };
}
