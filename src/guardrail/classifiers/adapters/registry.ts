import type { ClassifierKind } from "../types.ts";
import type { ClassifierAdapter } from "./adapter.ts";
import { httpAdapter } from "./http.ts";
import { lakeraAdapter } from "./lakera.ts";
import { llamaGuardAdapter } from "./llama-guard.ts";
import { nemoAdapter } from "./nemo.ts";
import { openAiModerationAdapter } from "./openai-moderation.ts";

/** Every classifier kind's adapter: shared code looks a kind up here and never branches on its name. */
export const CLASSIFIER_ADAPTERS: Readonly<Record<ClassifierKind, ClassifierAdapter>> = {
  lakera: lakeraAdapter,
  "openai-moderation": openAiModerationAdapter,
  nemo: nemoAdapter,
  "llama-guard": llamaGuardAdapter,
  http: httpAdapter,
};
