/** Models anonymous callers may use when `ANONYMOUS_MODELS` is unset: the built-in demo provider only. */
export const DEFAULT_ANONYMOUS_MODELS: readonly string[] = ["demo/*"];

/**
 * True if `model` (a canonical `<provider>/<model>` id) matches one of the patterns: an exact id, a
 * prefix ending in `*` (`demo/*`, `openai/gpt-4.1*`), or `*` alone for every model. Matching is
 * case-sensitive, as provider model ids are.
 */
export function matchesModel(patterns: readonly string[], model: string): boolean {
  return patterns.some((p) => (p.endsWith("*") ? model.startsWith(p.slice(0, -1)) : model === p));
}

/** Parses a comma-separated pattern list (`ANONYMOUS_MODELS`); unset or blank means the default. */
export function parseModelList(value: string | undefined, fallback: readonly string[]): readonly string[] {
  const items = (value ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  return items.length > 0 ? items : fallback;
}
