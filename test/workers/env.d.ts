import type { Env as GatewayEnv } from "../../src/env.ts";

// `env` from cloudflare:test is the worker's own Env (wrangler.toml bindings plus test overrides).
declare global {
  namespace Cloudflare {
    interface Env extends GatewayEnv {}
  }
}
