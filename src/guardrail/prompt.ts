import { ChannelScanner, type OpenVerdict } from "./channel.ts";
import type { BlockInfo, GuardrailConfig, Verdict } from "./types.ts";

/** A whole text scanned at once: every rule's matches applied. */
export interface TextScan {
  /** The text with every `redact` match replaced (block matches are not applied here). */
  readonly redacted: string;
  readonly verdicts: readonly Verdict[];
  /** The earliest `block` match, if any. */
  readonly block: BlockInfo | undefined;
}

/**
 * Scans a whole text with the given rules, no window: the reference the streaming core must agree with, and
 * the engine behind `scanPrompt`. Mode is ignored: redactions and blocks are computed as in `enforce`.
 */
export function scanText(config: GuardrailConfig, text: string, channel: string): TextScan {
  const verdicts: OpenVerdict[] = [];
  const scanner = new ChannelScanner(channel, config.rules, config.window.capChars, true, verdicts);
  scanner.append(text);
  scanner.finish();
  scanner.scan();
  const redacted = scanner.redactor?.rewrite(text, 0) ?? text;
  return { redacted, verdicts, block: scanner.block };
}

/** Outcome of scanning a prompt: the text to send upstream, or the block to answer with (a 400). */
export type PromptScan =
  | {
      readonly ok: true;
      readonly text: string;
      readonly changed: boolean;
      readonly verdicts: readonly Verdict[];
    }
  | { readonly ok: false; readonly block: BlockInfo; readonly verdicts: readonly Verdict[] };

/**
 * Applies the rules to a prompt text before any upstream call: in `enforce`, a `block` match refuses it and
 * `redact` matches are replaced; in `observe`, only verdicts; in `off`, nothing. `channel` names the text in
 * verdicts (e.g. `messages[2].content`).
 */
export function scanPrompt(config: GuardrailConfig, text: string, channel = "prompt"): PromptScan {
  if (config.mode === "off") return { ok: true, text, changed: false, verdicts: [] };
  const scan = scanText(config, text, channel);
  if (config.mode === "observe") return { ok: true, text, changed: false, verdicts: scan.verdicts };
  if (scan.block !== undefined) return { ok: false, block: scan.block, verdicts: scan.verdicts };
  return { ok: true, text: scan.redacted, changed: scan.redacted !== text, verdicts: scan.verdicts };
}
