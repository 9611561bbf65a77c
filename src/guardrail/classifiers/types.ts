/**
 * Types of the guardrail's classifiers: third-party (or self-hosted) services that judge a window of
 * text (prompt injection, toxicity, policy) where the built-in rules can only match patterns.
 */

/** The services a classifier can call; each has one adapter in `adapters/registry.ts`. */
export const CLASSIFIER_KINDS = ["lakera", "openai-moderation", "nemo", "llama-guard", "http"] as const;
export type ClassifierKind = (typeof CLASSIFIER_KINDS)[number];

/** `hold`: text waits for a verdict covering it. `async`: text flows, a late violation ends the stream. */
export type ClassifierMode = "hold" | "async";
/** `block` ends the stream (or refuses the prompt); `flag` only records the verdict. */
export type ClassifierAction = "block" | "flag";
/** What a timeout, an error or the call cap does: `open` lets the text pass, `closed` blocks. */
export type ClassifierOnError = "open" | "closed";
/** Where a classifier applies: the streamed answer, the prompt before any upstream call. */
export type ClassifierTarget = "output" | "prompt";

/** One validated entry of `GUARDRAIL_RULES.classifiers`, every default filled in. */
export interface ClassifierSpec {
  readonly name: string;
  readonly kind: ClassifierKind;
  /** Name of the secret holding the service's key; undefined: the call carries no key. */
  readonly keySecret: string | undefined;
  /** Scheme, host and optional port replacing the service's default host (no path). */
  readonly url: string | undefined;
  /** Lakera's `project_id`. */
  readonly projectId: string | undefined;
  /** NeMo Guardrails' `guardrails.config_id`, and the `model` its self-check rails consult. */
  readonly configId: string | undefined;
  readonly model: string | undefined;
  readonly everyTokens: number;
  readonly contextTokens: number;
  readonly mode: ClassifierMode;
  readonly action: ClassifierAction;
  readonly timeoutMs: number;
  readonly onError: ClassifierOnError;
  readonly applyTo: readonly ClassifierTarget[];
  readonly maxConcurrent: number;
  readonly maxCallsPerStream: number;
}

/** One chat message as the message-taking services read it. */
export interface ClassifierMessage {
  readonly role: "user" | "assistant";
  readonly content: string;
}

/**
 * What one call classifies: `messages` for the services that take a conversation (the last user
 * message, then the window as the assistant's), and `text` for those that take one text (the window
 * alone, or the prompt). Never keys, never text a `redact` rule has not yet rewritten.
 */
export interface ClassifyInput {
  readonly phase: ClassifierTarget;
  readonly messages: readonly ClassifierMessage[];
  readonly text: string;
}

/** A service's answer, or why there is none (timeout, HTTP error, an answer that does not parse). */
export type ClassifyResult =
  | { readonly ok: true; readonly flagged: boolean; readonly categories: readonly string[] }
  | { readonly ok: false; readonly reason: string };

/** One call of a classifier; `signal` aborts it when the timeout passes or the stream ends. */
export type ClassifyFn = (input: ClassifyInput, signal: AbortSignal) => Promise<ClassifyResult>;

/** A configured classifier bound to its key and transport, ready to call. */
export interface BoundClassifier {
  readonly spec: ClassifierSpec;
  readonly classify: ClassifyFn;
}
