import { arr, isObject, type JsonObject } from "../json.ts";
import { limitLeft, type Prefill } from "../translator.ts";

/**
 * An Anthropic Messages request that continues `text`: the delivered text as the final assistant
 * message (appended to the client's own prefill, if it ended with one). Anthropic refuses trailing
 * whitespace there, so it is left out and named as the seam's whitespace. `max_tokens` becomes what
 * is left after the `used` tokens. Extended thinking does not allow a prefill: undefined, as for text
 * that is whitespace only or a limit already reached.
 */
export function anthropicPrefill(body: JsonObject, text: string, used: number): Prefill | undefined {
  if (isObject(body.thinking) && body.thinking.type === "enabled") return undefined;
  const limited = limitLeft(body, "max_tokens", used);
  if (limited === undefined) return undefined;
  const messages = [...arr(body, "messages")];
  const last = messages.at(-1);
  const own =
    isObject(last) && last.role === "assistant" && typeof last.content === "string" ? last.content : "";
  const whole = own + text;
  const kept = whole.trimEnd();
  if (kept.length <= own.length) return undefined;
  const message = { role: "assistant", content: kept };
  if (own !== "") messages[messages.length - 1] = message;
  else messages.push(message);
  return { body: { ...limited, messages }, seamWhitespace: whole.slice(kept.length) };
}
