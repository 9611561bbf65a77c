import { configFor } from "../config.ts";
import type { Env } from "../env.ts";

/**
 * `GET /healthz`: liveness plus which providers can answer, and what each one that cannot still
 * needs (a secret's or binding's name, never a value).
 */
export function handleHealth(env: Env): Response {
  const providers = [...configFor(env).providers.values()].map((p) => ({
    name: p.name,
    family: p.family,
    configured: p.needs === undefined,
    ...(p.needs === undefined ? {} : { needs: p.needs }),
  }));
  return Response.json({ ok: true, providers });
}
