import { describe, expect, it } from "vitest";
import { GatewayError } from "../../../src/errors.ts";
import { parseClassifiers } from "../../../src/guardrail/classifiers/config.ts";
import { classifyPrompt, userTextFor } from "../../../src/guardrail/classifiers/prompt.ts";
import { VerdictLog } from "../../../src/guardrail/classifiers/report.ts";
import type {
  BoundClassifier,
  ClassifyInput,
  ClassifyResult,
} from "../../../src/guardrail/classifiers/types.ts";

function classifier(
  entry: Record<string, unknown>,
  answer: ClassifyResult,
  seen: ClassifyInput[],
): BoundClassifier {
  const parsed = parseClassifiers([{ name: "judge", kind: "http", url: "http://judge.test", ...entry }]);
  const spec = parsed.ok ? parsed.value[0] : undefined;
  if (spec === undefined) throw new Error("bad spec");
  return {
    spec,
    classify: async (input) => {
      seen.push(input);
      return answer;
    },
  };
}

const body = () => ({
  model: "m",
  messages: [
    { role: "user", content: "old question" },
    { role: "assistant", content: "old answer" },
    { role: "user", content: "the new question" },
  ],
});

async function refusal(p: Promise<void>): Promise<GatewayError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof GatewayError) return e;
    throw e;
  }
  throw new Error("expected a refusal");
}

describe("classifyPrompt", () => {
  it("sends the last user message and refuses a flagged prompt with 400 guardrail_blocked naming the classifier", async () => {
    const seen: ClassifyInput[] = [];
    const lines: string[] = [];
    const c = classifier({}, { ok: true, flagged: true, categories: ["prompt_attack"] }, seen);
    const e = await refusal(classifyPrompt([c], "enforce", body(), new VerdictLog((l) => lines.push(l))));
    expect(e.status).toBe(400);
    expect(e.code).toBe("guardrail_blocked");
    expect(e.message).toBe('the prompt was blocked by guardrail classifier "judge"');
    expect(seen).toEqual([
      {
        phase: "prompt",
        messages: [{ role: "user", content: "the new question" }],
        text: "the new question",
      },
    ]);
    expect(JSON.parse(lines[0] ?? "{}")).toMatchObject({
      event: "classifier_verdict",
      channel: "prompt",
      outcome: "block",
    });
    expect(lines[0]).not.toContain("the new question");
  });

  it("fails closed with the reason, and open by letting the prompt through", async () => {
    const down: ClassifyResult = { ok: false, reason: "timeout" };
    const closed = classifier({ onError: "closed" }, down, []);
    const e = await refusal(classifyPrompt([closed], "enforce", body()));
    expect(e.message).toContain('guardrail classifier "judge" was unavailable (timeout) and fails closed');
    await expect(classifyPrompt([classifier({}, down, [])], "enforce", body())).resolves.toBeUndefined();
  });

  it("only records in observe mode and with action flag, and runs nothing when off or not applied to prompts", async () => {
    const flagged: ClassifyResult = { ok: true, flagged: true, categories: [] };
    await expect(classifyPrompt([classifier({}, flagged, [])], "observe", body())).resolves.toBeUndefined();
    await expect(
      classifyPrompt([classifier({ action: "flag" }, flagged, [])], "enforce", body()),
    ).resolves.toBeUndefined();
    const seen: ClassifyInput[] = [];
    await classifyPrompt([classifier({}, flagged, seen)], "off", body());
    await classifyPrompt([classifier({ applyTo: ["output"] }, flagged, seen)], "enforce", body());
    expect(seen).toEqual([]);
  });

  it("carries the last user message to the output classifiers only when one runs", () => {
    const out = classifier({ applyTo: ["output"] }, { ok: true, flagged: false, categories: [] }, []);
    const inOnly = classifier({ applyTo: ["prompt"] }, { ok: true, flagged: false, categories: [] }, []);
    expect(userTextFor([out], "enforce", body())).toBe("the new question");
    expect(userTextFor([inOnly], "enforce", body())).toBeUndefined();
    expect(userTextFor([out], "off", body())).toBeUndefined();
  });
});
