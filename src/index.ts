import type { Env } from "./env.ts";
import { parseCorsPolicy, preflight, withCors } from "./http/cors.ts";
import { createRouter } from "./router.ts";

export { ChatObject } from "./objects/chat-object.ts";
export { PrincipalObject } from "./objects/principal-object.ts";
export { StreamObject } from "./objects/stream-object.ts";

const router = createRouter();

export default {
  async fetch(request, env, ctx) {
    const cors = parseCorsPolicy(env.ALLOWED_ORIGINS);
    if (request.method === "OPTIONS") return preflight(request, cors);
    return withCors(request, await router.fetch(request, env, ctx), cors);
  },
} satisfies ExportedHandler<Env>;
