import { ConfigError, GatewayError } from "../errors.ts";
import { ERROR_CODE } from "../protocol.ts";
import { isObject } from "./json.ts";
import { type ApiFamily, type Provider, truncate } from "./providers.ts";
import { FAMILIES } from "./registry.ts";
import type { ChatTranslator } from "./translator.ts";

/** Where a unified-endpoint model goes. */
export interface ModelRoute {
  readonly provider: Provider;
  /** The model name the provider knows (after `<provider>/`). */
  readonly upstreamModel: string;
  readonly translator: ChatTranslator;
}

/** Validates `MODEL_ALIASES`: a JSON object of alias → `<provider>/<model>`. */
export function parseAliases(json: string | undefined): ReadonlyMap<string, string> {
  if (json === undefined || json.trim() === "") return new Map();
  const parsed: unknown = (() => {
    try {
      return JSON.parse(json);
    } catch {
      throw new ConfigError("MODEL_ALIASES is not valid JSON");
    }
  })();
  if (!isObject(parsed))
    throw new ConfigError('MODEL_ALIASES must be a JSON object like {"fast": "groq/llama-3.3-70b"}');
  const map = new Map<string, string>();
  for (const [alias, target] of Object.entries(parsed)) {
    if (typeof target !== "string" || !target.includes("/")) {
      throw new ConfigError(`MODEL_ALIASES["${alias}"] must be a "<provider>/<model>" string`);
    }
    map.set(alias, target);
  }
  return map;
}

/** Resolves `<provider>/<model>` (or an alias of one); unknown providers answer 404 naming the model. */
export function resolveModel(
  model: string,
  providers: ReadonlyMap<string, Provider>,
  aliases: ReadonlyMap<string, string>,
): ModelRoute {
  const target = aliases.get(model) ?? model;
  const slash = target.indexOf("/");
  if (slash <= 0 || slash === target.length - 1) {
    throw new GatewayError(
      400,
      ERROR_CODE.invalidRequest,
      `model "${truncate(model)}" must be "<provider>/<model>" (e.g. "demo/story") or a configured alias`,
    );
  }
  const provider = providers.get(target.slice(0, slash));
  if (provider === undefined) {
    throw new GatewayError(
      404,
      ERROR_CODE.modelNotFound,
      `model "${truncate(model)}" not found: no provider "${truncate(target.slice(0, slash))}" is configured`,
    );
  }
  return {
    provider,
    upstreamModel: target.slice(slash + 1),
    translator: FAMILIES[provider.family].translator,
  };
}
