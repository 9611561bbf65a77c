/** Small type guards for reading untrusted provider JSON without casts. */

/** A plain JSON object. */
export type JsonObject = Record<string, unknown>;

/** True for a non-null, non-array object. */
export function isObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Parses JSON, returning undefined instead of throwing (stream data is untrusted). */
export function tryParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The object at `o[key]`, if it is one. */
export function obj(o: JsonObject, key: string): JsonObject | undefined {
  const v = o[key];
  return isObject(v) ? v : undefined;
}

/** The string at `o[key]`, if it is one. */
export function str(o: JsonObject, key: string): string | undefined {
  const v = o[key];
  return typeof v === "string" ? v : undefined;
}

/** The finite number at `o[key]`, if it is one. */
export function num(o: JsonObject, key: string): number | undefined {
  const v = o[key];
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

/** The array at `o[key]`, or an empty one. */
export function arr(o: JsonObject, key: string): readonly unknown[] {
  const v = o[key];
  return Array.isArray(v) ? v : [];
}
