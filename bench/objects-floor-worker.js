/**
 * A calibration target, not a product: the least the default configuration's object calls can cost.
 * bench/js-stage-worker.js (the passthrough with one JavaScript TransformStream) run inside a Durable
 * Object, as a resumable stream runs in its stream host, and a second call, made at the same time, to
 * another object that answers at once, as every stream asks its principal's object for a slot. Both
 * objects exist after the first requests, like the gateway's warm hosts and principals. Its TTFT over
 * one JS stage is what those two calls cost on this machine, with none of the gateway's own work.
 */
import { DurableObject } from "cloudflare:workers";
import jsStage from "./js-stage-worker.js";

/** As many objects of each kind as the default column uses: 16 stream hosts, 32 principals. */
const HOSTS = 16;
const PRINCIPALS = 32;

/** The one-JS-stage worker's own code, run in the object. */
export class HostObject extends DurableObject {
  /** @param {Request} request */
  fetch(request) {
    return jsStage.fetch(request, this.env);
  }
}

/** Answers at once, as a principal's object grants a slot from memory. */
export class CounterObject extends DurableObject {
  fetch() {
    return Response.json({ ok: true });
  }
}

/** @param {number} n */
const pick = (n) => Math.floor(Math.random() * n);

export default {
  /**
   * @param {Request} request
   * @param {{ UPSTREAM: string, HOSTS: DurableObjectNamespace, COUNTERS: DurableObjectNamespace }} env
   */
  async fetch(request, env) {
    const host = env.HOSTS.get(env.HOSTS.idFromName(`host-${pick(HOSTS)}`));
    const counter = env.COUNTERS.get(env.COUNTERS.idFromName(`principal-${pick(PRINCIPALS)}`));
    const [res] = await Promise.all([
      host.fetch(request),
      counter.fetch("https://counter.internal/acquire", { method: "POST" }),
    ]);
    return res;
  },
};
