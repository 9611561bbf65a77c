import { ConfigError } from "../errors.ts";
import { configObject, MAX_CHAIN, splitTarget } from "./models.ts";
import type { Provider } from "./providers.ts";

/** Any model of a provider, in `NATIVE_FALLBACKS`: on the member side it means the model asked for. */
const ANY = "*";

/** A native route's fallback targets by `<provider>/<model>` (or `<provider>/*`), in order. */
export type NativeFallbacks = ReadonlyMap<string, readonly string[]>;

/** One fallback target of a native request. */
export interface NativeTarget {
  readonly provider: Provider;
  readonly model: string;
}

/**
 * Validates `NATIVE_FALLBACKS`: `{"<provider>/<model>": ["<provider>/<model>", ...]}`, where `*` as
 * the model of a key matches any model of that provider and as the model of a member means the
 * model the request named. A native route forwards the client's body in its provider's own wire
 * format, so every member's provider must be of the key's family; that and every other mistake is a
 * ConfigError naming the key.
 */
export function parseNativeFallbacks(
  json: string | undefined,
  providers: ReadonlyMap<string, Provider>,
): NativeFallbacks {
  if (json === undefined || json.trim() === "") return new Map();
  const parsed = configObject(json, "NATIVE_FALLBACKS", '{"anthropic/*": ["anthropic-eu/*"]}');
  const map = new Map<string, readonly string[]>();
  for (const [key, members] of Object.entries(parsed)) {
    const where = `NATIVE_FALLBACKS["${key}"]`;
    const from = splitTarget(key);
    const source = from === undefined ? undefined : providers.get(from.provider);
    if (from === undefined || source === undefined) {
      throw new ConfigError(
        `${where}: the key must be "<provider>/<model>" or "<provider>/*" of a configured provider`,
      );
    }
    if (!Array.isArray(members) || members.length === 0 || members.length >= MAX_CHAIN) {
      throw new ConfigError(
        `${where} must be an array of 1 to ${MAX_CHAIN - 1} "<provider>/<model>" strings`,
      );
    }
    for (const member of members) {
      const to = typeof member === "string" ? splitTarget(member) : undefined;
      if (to === undefined)
        throw new ConfigError(`${where}: ${JSON.stringify(member)} must be "<provider>/<model>"`);
      const target = providers.get(to.provider);
      if (target === undefined) throw new ConfigError(`${where}: no provider "${to.provider}" is configured`);
      if (target.family !== source.family) {
        throw new ConfigError(
          `${where}: "${to.provider}" speaks ${target.family}, not ${source.family}: a native route falls back only to the same wire format`,
        );
      }
      if (to.model === ANY && from.model !== ANY) {
        throw new ConfigError(`${where}: "${member}" may use * only under a "<provider>/*" key`);
      }
      if (member === key) throw new ConfigError(`${where} names itself`);
    }
    map.set(key, members as string[]);
  }
  return map;
}

/**
 * The fallback targets of a native request to `provider`'s `model`: those of its exact key, else of
 * `<provider>/*`, with `*` members naming the same model. The requested target itself is never
 * repeated.
 */
export function nativeTargets(
  fallbacks: NativeFallbacks,
  providers: ReadonlyMap<string, Provider>,
  provider: string,
  model: string,
): NativeTarget[] {
  const members = fallbacks.get(`${provider}/${model}`) ?? fallbacks.get(`${provider}/${ANY}`) ?? [];
  const out: NativeTarget[] = [];
  for (const member of members) {
    const to = splitTarget(member);
    const p = to === undefined ? undefined : providers.get(to.provider);
    if (to === undefined || p === undefined) continue;
    const m = to.model === ANY ? model : to.model;
    if (p.name === provider && m === model) continue;
    out.push({ provider: p, model: m });
  }
  return out;
}
