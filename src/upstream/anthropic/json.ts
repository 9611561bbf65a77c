/**
 * The shared type guards for untrusted provider JSON (src/upstream/json.ts), under the names this folder
 * reads best with. Every field access goes through them, so a provider change shows up as "field
 * absent", never as a crash.
 */
import type { JsonObject as SharedJsonObject } from "../json.ts";

export {
  isObject as isRecord,
  num as numberField,
  obj as objectField,
  str as stringField,
  tryParse as parseJson,
} from "../json.ts";

/** A JSON object (not null, not an array), read-only here: this folder never mutates what it reads. */
export type JsonObject = Readonly<SharedJsonObject>;
