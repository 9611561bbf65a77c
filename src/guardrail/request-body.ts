import { GatewayError } from "../errors.ts";
import { ERROR_CODE } from "../protocol.ts";
import { scanPrompt } from "./prompt.ts";
import type { GuardrailConfig, Verdict } from "./types.ts";

/**
 * Fields that are never free text (identifiers, enums, model names, media payloads): every other string
 * in a request body is scanned, wherever a format keeps it (messages, system prompts, tool results,
 * tool-call inputs, Gemini function args...). A format-agnostic walk, so no route branches on a provider.
 * Base64 media (`data`, data URLs) is skipped: it is not prompt text, and scanning megabytes of it for
 * key-like runs would cost time and false positives.
 */
const NOT_TEXT = new Set([
  "model",
  "role",
  "type",
  "id",
  "call_id",
  "tool_call_id",
  "tool_use_id",
  "media_type",
  "mime_type",
  "mimeType",
  "data",
  "url",
  "detail",
  "signature",
  "thoughtSignature",
  "encrypted_content",
  "stop_reason",
  "finish_reason",
]);

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
        if (typeof v === "string") node[i] = scan(v, `${path}[${i}]`);
        else visit(v, `${path}[${i}]`);
      });
      return;
    }
    if (typeof node !== "object" || node === null) return;
    const obj = node as Record<string, unknown>;
    for (const [key, value] of Object.entries(obj)) {
      if (NOT_TEXT.has(key)) continue;
      const at = path === "" ? key : `${path}.${key}`;
      if (typeof value === "string") obj[key] = scan(value, at);
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
