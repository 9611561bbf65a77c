import type { ClassifierAdapter } from "./adapter.ts";
import { bearer, field, postJson, verdict } from "./http-json.ts";

/** Path of the gateway's own classifier contract (docs/guardrail-classifiers.md). */
export const HTTP_CLASSIFIER_PATH = "/classify";

/**
 * A classifier of your own, `POST <url>/classify` with `{classifier, phase, messages, text}`, answered
 * by `{flagged: boolean, categories?: string[]}` (documented in docs/guardrail-classifiers.md).
 */
export const httpAdapter: ClassifierAdapter = {
  defaultUrl: undefined,
  transport: "http",
  defaultKeySecret: undefined,
  fields: [],
  connect(spec, deps) {
    const url = `${spec.url}${HTTP_CLASSIFIER_PATH}`;
    return async (input, signal) => {
      const body = { classifier: spec.name, phase: input.phase, messages: input.messages, text: input.text };
      const answer = await postJson(deps.fetch, url, body, bearer(deps.key), signal);
      if (!answer.ok) return answer;
      const list = field(answer.json, "categories");
      const categories = Array.isArray(list) ? list.filter((c): c is string => typeof c === "string") : [];
      return verdict(field(answer.json, "flagged"), categories);
    };
  },
};
