import { CLASSIFIER_ADAPTERS } from "./adapters/registry.ts";
import {
  CLASSIFIER_KINDS,
  type ClassifierAction,
  type ClassifierKind,
  type ClassifierMode,
  type ClassifierOnError,
  type ClassifierSpec,
  type ClassifierTarget,
} from "./types.ts";

/** A parsed value, or an error naming the classifier and field (without the variable's prefix). */
export type ParsedClassifiers =
  | { readonly ok: true; readonly value: ClassifierSpec[] }
  | { readonly ok: false; readonly error: string };

type Json = Record<string, unknown>;
type Field<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

/** The defaults of the example entry, and the two caps. */
export const CLASSIFIER_DEFAULTS = {
  everyTokens: 40,
  contextTokens: 200,
  mode: "hold",
  action: "block",
  timeoutMs: 1500,
  onError: "open",
  applyTo: ["output", "prompt"],
  maxConcurrent: 4,
  maxCallsPerStream: 200,
} as const;

const NAME = /^[a-z][a-z0-9_-]{0,63}$/;
const SECRET_NAME = /^[A-Z_][A-Z0-9_]{0,127}$/;
const COMMON = [
  "name",
  "kind",
  "keySecret",
  "url",
  "everyTokens",
  "contextTokens",
  "mode",
  "action",
  "timeoutMs",
  "onError",
  "applyTo",
  "maxConcurrent",
  "maxCallsPerStream",
];
/** Upper bounds: a window past 2048 tokens is no longer streaming, a call past a minute no longer a guard. */
const LIMITS = {
  everyTokens: [1, 2048],
  contextTokens: [0, 8192],
  timeoutMs: [1, 60_000],
  maxConcurrent: [1, 64],
  maxCallsPerStream: [1, 100_000],
} as const;

const isJson = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

function oneOf<T extends string>(
  value: unknown,
  allowed: readonly T[],
  fallback: T,
  where: string,
): Field<T> {
  if (value === undefined) return { ok: true, value: fallback };
  const found = allowed.find((a) => a === value);
  return found === undefined
    ? { ok: false, error: `${where} must be one of ${allowed.join(", ")}` }
    : { ok: true, value: found };
}

function integer(value: unknown, key: keyof typeof LIMITS, fallback: number, where: string): Field<number> {
  if (value === undefined) return { ok: true, value: fallback };
  const [min, max] = LIMITS[key];
  const ok = typeof value === "number" && Number.isInteger(value) && value >= min && value <= max;
  if (ok) return { ok: true, value };
  const what = min === 0 ? "a non-negative integer" : "a positive integer";
  return { ok: false, error: `${where} must be ${what} (at most ${max})` };
}

function text(value: unknown, where: string): Field<string | undefined> {
  if (value === undefined) return { ok: true, value: undefined };
  return typeof value === "string" && value.trim() !== "" && value.length <= 256
    ? { ok: true, value }
    : { ok: false, error: `${where} must be a non-empty string of at most 256 chars` };
}

/**
 * `url` is an origin only (scheme, host, optional port): the gateway appends the service's API path,
 * so a path, query or credentials here would be silently wrong or leak into logs.
 */
function origin(value: unknown, where: string): Field<string | undefined> {
  if (value === undefined) return { ok: true, value: undefined };
  const bad = { ok: false, error: `${where} must be an origin like https://host:port (no path)` } as const;
  if (typeof value !== "string") return bad;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return bad;
  }
  const bare = value.replace(/\/$/, "");
  if (
    (url.protocol !== "https:" && url.protocol !== "http:") ||
    url.username !== "" ||
    url.password !== "" ||
    url.search !== "" ||
    url.hash !== "" ||
    url.pathname !== "/" ||
    bare !== url.origin
  ) {
    return bad;
  }
  return { ok: true, value: url.origin };
}

function targets(value: unknown, where: string): Field<readonly ClassifierTarget[]> {
  if (value === undefined) return { ok: true, value: CLASSIFIER_DEFAULTS.applyTo };
  const all: readonly ClassifierTarget[] = ["output", "prompt"];
  if (
    !Array.isArray(value) ||
    value.length === 0 ||
    !value.every((v): v is ClassifierTarget => all.some((t) => t === v))
  ) {
    return { ok: false, error: `${where} must be a non-empty list of "output" and "prompt"` };
  }
  return { ok: true, value: [...new Set(value)] };
}

function parseOne(value: unknown, index: number, taken: Set<string>): Field<ClassifierSpec> {
  if (!isJson(value)) return { ok: false, error: `classifier #${index + 1} must be an object` };
  const name = value.name;
  if (typeof name !== "string" || !NAME.test(name)) {
    return { ok: false, error: `classifier #${index + 1}: name must match ${NAME.source}` };
  }
  const at = `classifier "${name}"`;
  if (taken.has(name)) return { ok: false, error: `${at}: the name is already used by another classifier` };
  taken.add(name);
  const kind = CLASSIFIER_KINDS.find((k): k is ClassifierKind => k === value.kind);
  if (kind === undefined) {
    return { ok: false, error: `${at}: kind must be one of ${CLASSIFIER_KINDS.join(", ")}` };
  }
  const adapter = CLASSIFIER_ADAPTERS[kind];
  const allowed: readonly string[] = [...COMMON, ...adapter.fields];
  const extra = Object.keys(value).find((k) => !allowed.includes(k));
  if (extra !== undefined) return { ok: false, error: `${at}: unknown field "${extra}" for kind ${kind}` };
  if (adapter.transport === "binding" && (value.url !== undefined || value.keySecret !== undefined)) {
    return {
      ok: false,
      error: `${at}: kind ${kind} runs on the Workers AI binding: url and keySecret do not apply`,
    };
  }
  const url = origin(value.url, `${at}: url`);
  if (!url.ok) return url;
  if (adapter.transport === "http" && adapter.defaultUrl === undefined && url.value === undefined) {
    return { ok: false, error: `${at}: url is required for kind ${kind} (the server you run)` };
  }
  const keySecret = value.keySecret ?? adapter.defaultKeySecret;
  if (keySecret !== undefined && (typeof keySecret !== "string" || !SECRET_NAME.test(keySecret))) {
    return { ok: false, error: `${at}: keySecret must name a secret (${SECRET_NAME.source})` };
  }
  const d = CLASSIFIER_DEFAULTS;
  const everyTokens = integer(value.everyTokens, "everyTokens", d.everyTokens, `${at}: everyTokens`);
  if (!everyTokens.ok) return everyTokens;
  const contextTokens = integer(
    value.contextTokens,
    "contextTokens",
    d.contextTokens,
    `${at}: contextTokens`,
  );
  if (!contextTokens.ok) return contextTokens;
  const timeoutMs = integer(value.timeoutMs, "timeoutMs", d.timeoutMs, `${at}: timeoutMs`);
  if (!timeoutMs.ok) return timeoutMs;
  const maxConcurrent = integer(
    value.maxConcurrent,
    "maxConcurrent",
    d.maxConcurrent,
    `${at}: maxConcurrent`,
  );
  if (!maxConcurrent.ok) return maxConcurrent;
  const maxCalls = integer(
    value.maxCallsPerStream,
    "maxCallsPerStream",
    d.maxCallsPerStream,
    `${at}: maxCallsPerStream`,
  );
  if (!maxCalls.ok) return maxCalls;
  const mode = oneOf<ClassifierMode>(value.mode, ["hold", "async"], d.mode, `${at}: mode`);
  if (!mode.ok) return mode;
  const action = oneOf<ClassifierAction>(value.action, ["block", "flag"], d.action, `${at}: action`);
  if (!action.ok) return action;
  const onError = oneOf<ClassifierOnError>(value.onError, ["open", "closed"], d.onError, `${at}: onError`);
  if (!onError.ok) return onError;
  const applyTo = targets(value.applyTo, `${at}: applyTo`);
  if (!applyTo.ok) return applyTo;
  const projectId = text(value.projectId, `${at}: projectId`);
  if (!projectId.ok) return projectId;
  const configId = text(value.configId, `${at}: configId`);
  if (!configId.ok) return configId;
  const model = text(value.model, `${at}: model`);
  if (!model.ok) return model;
  return {
    ok: true,
    value: {
      name,
      kind,
      keySecret,
      url: url.value,
      projectId: projectId.value,
      configId: configId.value,
      model: model.value,
      everyTokens: everyTokens.value,
      contextTokens: contextTokens.value,
      mode: mode.value,
      action: action.value,
      timeoutMs: timeoutMs.value,
      onError: onError.value,
      applyTo: applyTo.value,
      maxConcurrent: maxConcurrent.value,
      maxCallsPerStream: maxCalls.value,
    },
  };
}

/**
 * Validates `GUARDRAIL_RULES.classifiers`, a list of classifier entries (see docs/guardrail-classifiers.md);
 * every mistake names the classifier and the field, so a bad entry fails at start-up, never mid-stream.
 */
export function parseClassifiers(value: unknown): ParsedClassifiers {
  if (value === undefined) return { ok: true, value: [] };
  if (!Array.isArray(value)) return { ok: false, error: "classifiers must be a list" };
  const taken = new Set<string>();
  const specs: ClassifierSpec[] = [];
  for (const [index, entry] of value.entries()) {
    const spec = parseOne(entry, index, taken);
    if (!spec.ok) return spec;
    specs.push(spec.value);
  }
  return { ok: true, value: specs };
}
