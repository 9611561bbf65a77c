/**
 * Small type guards for reading untrusted Anthropic JSON without casts. Every field access in this
 * folder goes through these, so a provider change shows up as "field absent", never as a crash.
 */

/** A JSON object (not null, not an array). */
export type JsonObject = Readonly<Record<string, unknown>>;

/** True for a plain JSON object. */
export function isRecord(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Parses JSON text, returning undefined instead of throwing on malformed input. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** `obj[key]` when it is an object, else undefined. */
export function objectField(obj: JsonObject, key: string): JsonObject | undefined {
  const v = obj[key];
  return isRecord(v) ? v : undefined;
}

/** `obj[key]` when it is a string, else undefined. */
export function stringField(obj: JsonObject, key: string): string | undefined {
  const v = obj[key];
  return typeof v === "string" ? v : undefined;
}

/** `obj[key]` when it is a finite number, else undefined. */
export function numberField(obj: JsonObject, key: string): number | undefined {
  const v = obj[key];
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}
