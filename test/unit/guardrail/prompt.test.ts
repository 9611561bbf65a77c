import { describe, expect, it } from "vitest";
import { scanPrompt } from "../../../src/guardrail/index.ts";
import { config, SECRET_TEMPLATES } from "./support.ts";

const KEY = SECRET_TEMPLATES.openai_key?.(4) ?? "";
const CARD = "4111 1111 1111 1111";

describe("scanPrompt", () => {
  it("redacts the whole prompt and reports verdicts, without a window", () => {
    const text = `use ${KEY} and pay with ${CARD}; mail a@b.co`;
    const result = scanPrompt(config(), text);
    expect(result).toEqual({
      ok: true,
      text: "use [REDACTED:openai_key] and pay with [REDACTED:payment_card]; mail a@b.co",
      changed: true,
      verdicts: expect.arrayContaining([
        { rule: "openai_key", action: "redact", channel: "prompt", start: 4, end: 4 + KEY.length },
        { rule: "email", action: "flag", channel: "prompt", start: text.indexOf("a@b"), end: text.length },
      ]),
    });
  });

  it("refuses a prompt with a block match, naming the rule and the channel", () => {
    const cfg = config({ denyTerms: { terms: ["launch codes"], action: "block" } });
    const result = scanPrompt(cfg, "what are the Launch Codes?", "messages[0].content");
    expect(result).toMatchObject({
      ok: false,
      block: { rule: "deny_terms", channel: "messages[0].content", start: 13 },
    });
  });

  it("leaves a prompt without matches unchanged", () => {
    expect(scanPrompt(config(), "just a question")).toEqual({
      ok: true,
      text: "just a question",
      changed: false,
      verdicts: [],
    });
  });

  it("only reports in observe mode, and does nothing when off", () => {
    const text = `key ${KEY}`;
    const observed = scanPrompt(config(undefined, "observe"), text);
    expect(observed).toMatchObject({ ok: true, text, changed: false });
    expect(observed.verdicts.map((v) => v.rule)).toEqual(["openai_key"]);
    expect(scanPrompt(config(undefined, "off"), text)).toEqual({
      ok: true,
      text,
      changed: false,
      verdicts: [],
    });
  });
});
