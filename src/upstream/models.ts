import { ConfigError, GatewayError } from "../errors.ts";
import { ERROR_CODE } from "../protocol.ts";
import { isObject, type JsonObject } from "./json.ts";
import { type Provider, truncate } from "./providers.ts";
import { FAMILIES } from "./registry.ts";
import type { ChatTranslator } from "./translator.ts";

/** Where a unified-endpoint model goes. */
export interface ModelRoute {
  readonly provider: Provider;
  /** The model name the provider knows (after `<provider>/`). */
  readonly upstreamModel: string;
  readonly translator: ChatTranslator;
}

/** Longest fallback chain an alias or a request's `models` may name. */
export const MAX_CHAIN = 8;

/** Splits `<provider>/<model>`; undefined when either side is empty. */
export function splitTarget(target: string): { provider: string; model: string } | undefined {
  const slash = target.indexOf("/");
  if (slash <= 0 || slash === target.length - 1) return undefined;
  return { provider: target.slice(0, slash), model: target.slice(slash + 1) };
}

/** Parses a JSON-object variable; not JSON or not an object is a ConfigError naming `name`. */
export function configObject(json: string, name: string, example: string): JsonObject {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new ConfigError(`${name} is not valid JSON`);
  }
  if (!isObject(parsed)) throw new ConfigError(`${name} must be a JSON object like ${example}`);
  return parsed;
}

/**
 * Validates `MODEL_ALIASES`: a JSON object of alias → `"<provider>/<model>"`, or an array of them (an
 * ordered fallback chain, tried in order). A chain member names a configured provider and is never
 * another alias (so there can be no cycle); every mistake is a ConfigError naming the alias.
 */
export function parseAliases(
  json: string | undefined,
  providers: ReadonlyMap<string, Provider>,
): ReadonlyMap<string, readonly string[]> {
  if (json === undefined || json.trim() === "") return new Map();
  const parsed = configObject(json, "MODEL_ALIASES", '{"fast": "groq/llama-3.3-70b"}');
  const map = new Map<string, readonly string[]>();
  for (const [alias, value] of Object.entries(parsed)) {
    const chain = typeof value === "string" ? [value] : value;
    const where = `MODEL_ALIASES["${alias}"]`;
    if (!Array.isArray(chain) || chain.length === 0 || chain.length > MAX_CHAIN) {
      throw new ConfigError(
        `${where} must be a "<provider>/<model>" string or an array of 1 to ${MAX_CHAIN} of them`,
      );
    }
    const targets: string[] = [];
    for (const member of chain) {
      if (typeof member !== "string")
        throw new ConfigError(`${where} must list "<provider>/<model>" strings`);
      if (Object.hasOwn(parsed, member)) {
        throw new ConfigError(`${where}: "${member}" is another alias; a chain names targets only`);
      }
      const t = splitTarget(member);
      if (t === undefined) throw new ConfigError(`${where}: "${member}" must be "<provider>/<model>"`);
      if (!providers.has(t.provider))
        throw new ConfigError(`${where}: no provider "${t.provider}" is configured`);
      targets.push(member);
    }
    map.set(alias, targets);
  }
  return map;
}

/** Resolves `<provider>/<model>` (never an alias); unknown providers answer 404 naming the model. */
export function resolveTarget(
  target: string,
  providers: ReadonlyMap<string, Provider>,
  asked: string = target,
): ModelRoute {
  const t = splitTarget(target);
  if (t === undefined) {
    throw new GatewayError(
      400,
      ERROR_CODE.invalidRequest,
      `model "${truncate(asked)}" must be "<provider>/<model>" (e.g. "demo/story") or a configured alias`,
    );
  }
  const provider = providers.get(t.provider);
  if (provider === undefined) {
    throw new GatewayError(
      404,
      ERROR_CODE.modelNotFound,
      `model "${truncate(asked)}" not found: no provider "${truncate(t.provider)}" is configured`,
    );
  }
  return { provider, upstreamModel: t.model, translator: FAMILIES[provider.family].translator };
}

/**
 * The targets for what a request named: each model (an alias expands to its chain) in order,
 * duplicates dropped, at most MAX_CHAIN.
 */
export function resolveChain(
  models: readonly string[],
  providers: ReadonlyMap<string, Provider>,
  aliases: ReadonlyMap<string, readonly string[]>,
): ModelRoute[] {
  const seen = new Set<string>();
  const routes: ModelRoute[] = [];
  for (const model of models) {
    for (const target of aliases.get(model) ?? [model]) {
      if (seen.has(target)) continue;
      seen.add(target);
      routes.push(resolveTarget(target, providers, model));
    }
  }
  return routes.slice(0, MAX_CHAIN);
}

/** Resolves one model name (an alias gives its chain's first target). */
export function resolveModel(
  model: string,
  providers: ReadonlyMap<string, Provider>,
  aliases: ReadonlyMap<string, readonly string[]>,
): ModelRoute {
  return resolveTarget(aliases.get(model)?.[0] ?? model, providers, model);
}
