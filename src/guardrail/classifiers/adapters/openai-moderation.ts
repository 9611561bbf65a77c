import type { ClassifierAdapter } from "./adapter.ts";
import { bearer, field, postJson, verdict } from "./http-json.ts";

/** The service's public origin (`url` replaces it). */
const OPENAI_ORIGIN = "https://api.openai.com";

/** The moderation model: free, multimodal, and the one OpenAI recommends for new integrations. */
const MODEL = "omni-moderation-latest";

/**
 * OpenAI moderation, `POST /v1/moderations` with `{model, input}` (one text), answered by
 * `{results: [{flagged, categories: {name: bool}}]}`; the true categories are the categories.
 */
export const openAiModerationAdapter: ClassifierAdapter = {
  defaultUrl: OPENAI_ORIGIN,
  transport: "http",
  defaultKeySecret: "OPENAI_API_KEY",
  fields: [],
  connect(spec, deps) {
    const url = `${spec.url ?? OPENAI_ORIGIN}/v1/moderations`;
    return async (input, signal) => {
      const answer = await postJson(
        deps.fetch,
        url,
        { model: MODEL, input: input.text },
        bearer(deps.key),
        signal,
      );
      if (!answer.ok) return answer;
      const results = field(answer.json, "results");
      const first: unknown = Array.isArray(results) ? results[0] : undefined;
      const flags = field(first, "categories");
      const categories =
        typeof flags === "object" && flags !== null
          ? Object.entries(flags)
              .filter(([, on]) => on === true)
              .map(([name]) => name)
          : [];
      return verdict(field(first, "flagged"), categories);
    };
  },
};
