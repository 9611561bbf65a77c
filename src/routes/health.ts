import { configFor } from "../config.ts";
import type { Env } from "../env.ts";

/** `GET /healthz`: liveness plus which providers are configured (names only, never keys). */
export function handleHealth(env: Env): Response {
  const providers = [...configFor(env).providers.values()].map((p) => ({
    name: p.name,
    family: p.family,
    configured: p.keySecret === undefined || p.apiKey !== undefined,
  }));
  return Response.json({ ok: true, providers });
}
