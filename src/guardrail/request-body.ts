import { GatewayError } from "../errors.ts";
import { ERROR_CODE } from "../protocol.ts";
import { scanPrompt } from "./prompt.ts";
import type { GuardrailConfig, Verdict } from "./types.ts";

/**
 * Keys under which every supported request format carries prompt text (OpenAI `content`/`text`/
 * `input`/`instructions`, Anthropic `system`/`content`/`text`, Gemini `text`): a format-agnostic walk,
 * so no route branches on a provider to guard its prompt.
 */
const PROMPT_KEYS = new Set(["content", "text", "input", "instructions", "system", "prompt", "arguments"]);

/** What the prompt guard did to a request body. */
export interface PromptGuardResult {
  readonly changed: boolean;
  readonly verdicts: readonly Verdict[];
}

/**
 * Applies the guardrail rules to every prompt string of a JSON request body, in place: `redact`
 * rewrites the string (the upstream sees the redacted prompt), `block` answers 400 naming the rule.
 */
export function guardPrompt(body: Record<string, unknown>, config: GuardrailConfig): PromptGuardResult {
  if (config.mode === "off") return { changed: false, verdicts: [] };
  const verdicts: Verdict[] = [];
  let changed = false;
  const visit = (node: unknown, path: string): void => {
    if (Array.isArray(node)) {
      node.forEach((v, i) => {
        if (typeof v === "string" && PROMPT_KEYS.has(path.split(".").pop() ?? ""))
          node[i] = scan(v, `${path}[${i}]`);
        else visit(v, `${path}[${i}]`);
      });
      return;
    }
    if (typeof node !== "object" || node === null) return;
    const obj = node as Record<string, unknown>;
    for (const [key, value] of Object.entries(obj)) {
      const at = path === "" ? key : `${path}.${key}`;
      if (typeof value === "string" && PROMPT_KEYS.has(key)) obj[key] = scan(value, at);
      else visit(value, at);
    }
  };
  const scan = (text: string, channel: string): string => {
    const result = scanPrompt(config, text, channel);
    verdicts.push(...result.verdicts);
    if (!result.ok) {
      throw new GatewayError(
        400,
        ERROR_CODE.guardrailBlocked,
        `the prompt was blocked by guardrail rule "${result.block.rule}" (at ${channel})`,
      );
    }
    if (result.changed) changed = true;
    return result.text;
  };
  visit(body, "");
  return { changed, verdicts };
}
