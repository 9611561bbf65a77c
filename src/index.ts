import type { Env } from "./env.ts";
import { createRouter } from "./router.ts";

export { StreamObject } from "./resumable/stream-object.ts";

const router = createRouter();

export default {
  fetch: (request, env, ctx) => router.fetch(request, env, ctx),
} satisfies ExportedHandler<Env>;
