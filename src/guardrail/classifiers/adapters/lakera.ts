import type { ClassifierAdapter } from "./adapter.ts";
import { bearer, field, postJson, verdict } from "./http-json.ts";

/** The service's public origin (`url` replaces it). */
const LAKERA_ORIGIN = "https://api.lakera.ai";

/**
 * Lakera Guard, `POST /v2/guard` (docs.lakera.ai/docs/api/guard): `{messages, project_id?, breakdown}`
 * answered by `{flagged, breakdown: [{detector_type, detected}]}`; the detected detector types are the
 * categories.
 */
export const lakeraAdapter: ClassifierAdapter = {
  defaultUrl: LAKERA_ORIGIN,
  transport: "http",
  defaultKeySecret: "LAKERA_API_KEY",
  fields: ["projectId"],
  connect(spec, deps) {
    const url = `${spec.url ?? LAKERA_ORIGIN}/v2/guard`;
    return async (input, signal) => {
      const body = {
        messages: input.messages,
        breakdown: true,
        ...(spec.projectId === undefined ? {} : { project_id: spec.projectId }),
      };
      const answer = await postJson(deps.fetch, url, body, bearer(deps.key), signal);
      if (!answer.ok) return answer;
      const breakdown = field(answer.json, "breakdown");
      const categories = Array.isArray(breakdown)
        ? breakdown
            .filter((d) => field(d, "detected") === true)
            .map((d) => field(d, "detector_type"))
            .filter((t): t is string => typeof t === "string")
        : [];
      return verdict(field(answer.json, "flagged"), [...new Set(categories)]);
    };
  },
};
