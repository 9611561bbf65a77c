import type { ClassifierAdapter } from "./adapter.ts";
import { bearer, field, postJson, verdict } from "./http-json.ts";

/**
 * A NeMo Guardrails server's check endpoint, `POST /v1/guardrail/checks` (the open-source server and
 * the NeMo microservice alike): `{model, messages, guardrails: {config_id}}` runs the configuration's
 * input and output rails without generating, answered by `{status: "success" | "blocked",
 * rails_status: {rail: {status}}}`; the blocked rails are the categories. There is no default host:
 * it is a server you run, so `url` is required.
 */
export const nemoAdapter: ClassifierAdapter = {
  defaultUrl: undefined,
  transport: "http",
  defaultKeySecret: undefined,
  fields: ["configId", "model"],
  connect(spec, deps) {
    const url = `${spec.url}/v1/guardrail/checks`;
    return async (input, signal) => {
      const body = {
        // Only self-check rails consult the model; the server requires the field all the same.
        model: spec.model ?? "default",
        messages: input.messages,
        guardrails: { config_id: spec.configId ?? "default" },
      };
      const answer = await postJson(deps.fetch, url, body, bearer(deps.key), signal);
      if (!answer.ok) return answer;
      const status = field(answer.json, "status");
      const rails = field(answer.json, "rails_status");
      const categories =
        typeof rails === "object" && rails !== null
          ? Object.entries(rails)
              .filter(([, s]) => field(s, "status") === "blocked")
              .map(([name]) => name)
          : [];
      if (status !== "success" && status !== "blocked") return { ok: false, reason: "unexpected answer" };
      return verdict(status === "blocked", categories);
    };
  },
};
