import type { AiRunner } from "../../../upstream/workers-ai/transport.ts";
import type { ClassifierSpec, ClassifyFn } from "../types.ts";

/** What an adapter is connected with: the transport and the key, found at the edge (config.ts). */
export interface ClassifierDeps {
  readonly fetch: typeof fetch;
  /** The value of the spec's `keySecret`, if it names one that is set. */
  readonly key: string | undefined;
  /** The Workers AI binding, if the worker has one. */
  readonly ai: AiRunner | undefined;
}

/** One service kind: how it is reached, what it accepts in the config, and how one call is made. */
export interface ClassifierAdapter {
  /** The service's default origin; undefined when `url` is required (a classifier of your own). */
  readonly defaultUrl: string | undefined;
  /** `binding`: reached through a Worker binding, so `url` and `keySecret` do not apply. */
  readonly transport: "http" | "binding";
  /** The secret read for the key when `keySecret` is not given; undefined: no key unless named. */
  readonly defaultKeySecret: string | undefined;
  /** Kind-specific config fields, beyond those every classifier has. */
  readonly fields: readonly ("projectId" | "configId" | "model")[];
  /** A ready call for `spec`; the call's own code keeps within `signal` (timeout, stream ended). */
  connect(spec: ClassifierSpec, deps: ClassifierDeps): ClassifyFn;
}
