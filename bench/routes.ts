/**
 * How each kind of target is asked for a stream. A route maps a plan to a request per target kind,
 * so a row can compare the gateway on one endpoint (say the unified one, translating) with direct
 * and passthrough on the provider's own endpoint that the gateway calls behind it.
 */
import { planModel, type StreamPlan } from "./plan.ts";

/** The three kinds of system under test (see bench/targets.ts). */
export type TargetKind = "direct" | "passthrough" | "gateway";

/** One request: a path on the target and, for a POST (the default), a JSON body. */
export interface RouteRequest {
  readonly method?: "GET" | "POST";
  readonly path: string;
  readonly body?: string;
}

/** A way to ask every kind of target for the same upstream stream. */
export interface StreamRoute {
  readonly id: string;
  request(kind: TargetKind, plan: StreamPlan): RouteRequest;
}

/** OpenAI Chat Completions, native on every target: the gateway forwards it unchanged. */
export const OPENAI_NATIVE: StreamRoute = {
  id: "openai-native",
  request: (_kind, plan) => ({
    path: "/openai/v1/chat/completions",
    body: JSON.stringify({
      model: planModel(plan),
      stream: true,
      messages: [{ role: "user", content: "bench" }],
    }),
  }),
};

/**
 * Issue 3's translated stream: the gateway translates an Anthropic upstream into
 * OpenAI chunks on `POST /v1/chat/completions`, while direct and passthrough read the same
 * Anthropic stream natively, so "added per-event delay" isolates the translation's cost. The
 * mock already serves Anthropic events at `/anthropic/v1/messages`.
 */
export const ANTHROPIC_VIA_UNIFIED: StreamRoute = {
  id: "anthropic-translated",
  request: (kind, plan) =>
    kind === "gateway"
      ? {
          path: "/v1/chat/completions",
          body: JSON.stringify({
            model: `anthropic/${planModel(plan)}`,
            stream: true,
            messages: [{ role: "user", content: "bench" }],
          }),
        }
      : {
          path: "/anthropic/v1/messages",
          body: JSON.stringify({
            model: planModel(plan),
            stream: true,
            max_tokens: 1024,
            messages: [{ role: "user", content: "bench" }],
          }),
        },
};

/**
 * The same Anthropic stream on every target's native Anthropic Messages path: for the gateway, its
 * untranslated route (`/anthropic/v1/messages`, the same upstream format in and out), so the
 * translated row can show what the translation itself costs.
 */
export const ANTHROPIC_NATIVE: StreamRoute = {
  id: "anthropic-native",
  request: (_kind, plan) => ANTHROPIC_VIA_UNIFIED.request("direct", plan),
};

/** A replay of a stored stream: `GET /v1/streams/{id}` from its first event (the gateway only). */
export function replayRequest(streamId: string): RouteRequest {
  return { method: "GET", path: `/v1/streams/${encodeURIComponent(streamId)}` };
}
