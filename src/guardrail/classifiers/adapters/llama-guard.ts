import type { ClassifierAdapter } from "./adapter.ts";
import { field, verdict } from "./http-json.ts";

/** Llama Guard 3 on Workers AI. */
export const LLAMA_GUARD_MODEL = "@cf/meta/llama-guard-3-8b";

/**
 * Llama Guard through the Workers AI binding: `env.AI.run("@cf/meta/llama-guard-3-8b", {messages})`
 * answers `{response: {safe, categories}}` (the hazard codes `S1`...`S14`). The binding has no
 * timeout of its own, so the call races `signal`.
 */
export const llamaGuardAdapter: ClassifierAdapter = {
  defaultUrl: undefined,
  transport: "binding",
  defaultKeySecret: undefined,
  fields: [],
  connect(_spec, deps) {
    return async (input, signal) => {
      const ai = deps.ai;
      if (ai === undefined) return { ok: false, reason: "no AI binding" };
      let aborted: () => void = () => {};
      const stop = new Promise<"timeout">((resolve) => {
        aborted = () => resolve("timeout");
        if (signal.aborted) aborted();
        else signal.addEventListener("abort", aborted, { once: true });
      });
      let answer: unknown;
      try {
        answer = await Promise.race([ai.run(LLAMA_GUARD_MODEL, { messages: input.messages }), stop]);
      } catch {
        return { ok: false, reason: "binding error" };
      } finally {
        signal.removeEventListener("abort", aborted);
      }
      if (answer === "timeout") return { ok: false, reason: "timeout" };
      const response = field(answer, "response");
      const safe = field(response, "safe");
      const codes = field(response, "categories");
      const categories = Array.isArray(codes) ? codes.filter((c): c is string => typeof c === "string") : [];
      return typeof safe === "boolean"
        ? verdict(!safe, categories)
        : { ok: false, reason: "unexpected answer" };
    };
  },
};
