import { configFor } from "../config.ts";
import type { Env } from "../env.ts";
import { DEMO_MODELS } from "../upstream/demo/script.ts";

/**
 * `GET /v1/models` in OpenAI's list shape: the demo models and the configured aliases. Real providers'
 * catalogues are not fetched (that would cost a request per listing); any `<provider>/<model>` works.
 */
export function handleModels(env: Env): Response {
  const { aliases } = configFor(env);
  const ids = [...Object.keys(DEMO_MODELS).map((m) => `demo/${m}`), ...aliases.keys()];
  return Response.json({
    object: "list",
    data: ids.map((id) => ({ id, object: "model", created: 0, owned_by: id.split("/")[0] ?? "gateway" })),
  });
}
