import type { AiRunner } from "../../upstream/workers-ai/transport.ts";
import { CLASSIFIER_ADAPTERS } from "./adapters/registry.ts";
import type { BoundClassifier, ClassifierSpec, ClassifyFn, ClassifyResult } from "./types.ts";

/** What binding needs from the Worker: a transport, the secrets by name, the AI binding. */
export interface ClassifierEnv {
  readonly fetch: typeof fetch;
  readonly secret: (name: string) => string | undefined;
  readonly ai: AiRunner | undefined;
}

/**
 * Bounds a call by `timeoutMs`: the adapter's own request is aborted, and the call answers
 * `timeout` at the deadline even if an adapter (a binding) would not stop.
 */
function within(classify: ClassifyFn, timeoutMs: number): ClassifyFn {
  return async (input, signal) => {
    const timeout = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<ClassifyResult>((resolve) => {
      timer = setTimeout(() => {
        timeout.abort("timeout");
        resolve({ ok: false, reason: "timeout" });
      }, timeoutMs);
    });
    try {
      const call = classify(input, AbortSignal.any([signal, timeout.signal])).catch(
        (): ClassifyResult => ({ ok: false, reason: "error" }),
      );
      const result = await Promise.race([call, late]);
      return !result.ok && timeout.signal.aborted ? { ok: false, reason: "timeout" } : result;
    } finally {
      clearTimeout(timer);
    }
  };
}

/** Connects every configured classifier to its adapter, its key (`keySecret`) and `timeoutMs`. */
export function bindClassifiers(specs: readonly ClassifierSpec[], env: ClassifierEnv): BoundClassifier[] {
  return specs.map((spec) => {
    const key = spec.keySecret === undefined ? undefined : env.secret(spec.keySecret);
    const adapter = CLASSIFIER_ADAPTERS[spec.kind];
    const classify = adapter.connect(spec, { fetch: env.fetch, key, ai: env.ai });
    return { spec, classify: within(classify, spec.timeoutMs) };
  });
}
