import { buildWorker } from "../support/gateway.ts";

/** Bundles the worker once for every end-to-end test file, as `wrangler deploy` would. */
export default function setup(): void {
  buildWorker();
}
