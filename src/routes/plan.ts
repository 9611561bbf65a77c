import { locationFromCf } from "../analytics/data-point.ts";
import { attachAnalytics, gatewaySink } from "../analytics/stream-analytics.ts";
import type { GatewayConfig } from "../config.ts";
import type { Env } from "../env.ts";
import { GatewayError } from "../errors.ts";
import { guardAnswerBody, reportAnswer } from "../guardrail/answer-guard.ts";
import { guardJsonAnswer } from "../guardrail/json-answer.ts";
import { GuardrailStep } from "../guardrail/stage.ts";
import type { ItemStep } from "../pipeline/steps.ts";
import type { StreamState } from "../pipeline/stream-state.ts";
import { Translation } from "../pipeline/translation.ts";
import { ERROR_CODE } from "../protocol.ts";
import type { FormatName } from "../upstream/format.ts";
import { FORMATS } from "../upstream/formats.ts";
import { TRANSLATORS } from "../upstream/models.ts";
import { type ApiFamily, requireProvider } from "../upstream/providers.ts";
import type { ChunkIdentity } from "../upstream/translator.ts";
import { type OpenExchange, openExchange, streamResponse } from "./stream-response.ts";

/**
 * Everything needed to run one upstream exchange, as plain data: a route builds it, then it runs
 * either here or inside the stream's Durable Object (which rebuilds providers from its own config,
 * so no key ever travels or is stored).
 */
export interface StreamPlan {
  readonly provider: string;
  /** `native` or `unified`, for analytics and status. */
  readonly route: string;
  /** The model as `<provider>/<model>` (canonical: an alias is resolved), for analytics and status. */
  readonly model: string;
  readonly path: string;
  readonly body: string;
  /** Format-specific request headers (never credentials). */
  readonly headers: Readonly<Record<string, string>>;
  /** The format the client receives. */
  readonly format: FormatName;
  readonly stream: boolean;
  /** Present when the provider's format is translated into OpenAI chunks. */
  readonly translate?: { readonly family: ApiFamily; readonly identity: ChunkIdentity };
  /** When the gateway received the request (epoch ms): the start of the gateway's TTFT. */
  readonly receivedAt: number;
  /** Cloudflare colo and client country from `request.cf`, for analytics. */
  readonly colo: string;
  readonly country: string;
  /** The principal's id (a hash or "anonymous", never a credential). */
  readonly principal: string;
  /** The stream's public id (`x-stream-id`), set once the stream is resumable. */
  readonly streamId?: string;
}

/** The request facts every plan carries. */
export function planContext(request: Request, receivedAt: number, principal: string) {
  return { receivedAt, ...locationFromCf(request.cf), principal };
}

/** Writes the plan's stream to analytics when it ends. */
export function trackStream(plan: StreamPlan, state: StreamState, env: Env): void {
  state.metrics.requestReceived(plan.receivedAt);
  attachAnalytics(
    state,
    {
      route: `${plan.route}/${plan.format}`,
      provider: plan.provider,
      model: plan.model,
      colo: plan.colo,
      country: plan.country,
      principal: plan.principal,
      ...(plan.streamId === undefined ? {} : { streamId: plan.streamId }),
    },
    gatewaySink(env),
  );
}

/** The translation a plan needs, if the provider's format is not the client's. */
export function translateStage(plan: StreamPlan): Translation | undefined {
  if (plan.translate === undefined) return undefined;
  const translator = TRANSLATORS[plan.translate.family];
  return new Translation(translator.createStream(plan.translate.identity), FORMATS[plan.format]);
}

/** The item steps every stream of this gateway runs: the guardrail, unless it is off. */
export function guardSteps(
  config: GatewayConfig,
  format: FormatName,
  state: StreamState,
  abortUpstream: (reason: string) => void,
): ItemStep[] {
  if (config.guardrail.mode === "off") return [];
  return [new GuardrailStep(config.guardrail, FORMATS[format], state, abortUpstream)];
}

/** Sends a plan's request upstream on behalf of `request` (whose allow-listed headers are forwarded). */
export function openPlan(
  plan: StreamPlan,
  request: Request,
  config: GatewayConfig,
  onState: (state: StreamState) => void,
): Promise<OpenExchange> {
  return openExchange({
    onState,
    request,
    config,
    provider: requireProvider(config.providers, plan.provider),
    path: plan.path,
    body: plan.body,
    headers: plan.headers,
  });
}

/**
 * Answers a non-streaming exchange: passthrough for native routes, translated JSON for the unified one.
 * Either way the answer passes the output guardrail in the client's format (guardrail/json-answer.ts), as
 * a stream does. A native answer is read whole only when the guardrail is on: with it off the body
 * streams through unread, and with it on an unchanged answer still leaves with the upstream's exact bytes.
 * A 2xx native body that is not JSON passes only with the guardrail off (nothing is promised then); with
 * it on it is a 502, because text the guardrail cannot read would reach the client unchecked. JSON of an
 * unexpected shape is scanned string by string (see `guardJsonAnswer`). Non-2xx answers never get here:
 * `callUpstream` turns them into errors first.
 */
export async function jsonResponse(
  plan: StreamPlan,
  x: OpenExchange,
  config: GatewayConfig,
): Promise<Response> {
  const format = FORMATS[plan.format];
  const notJson = () =>
    new GatewayError(
      502,
      ERROR_CODE.upstreamError,
      `provider "${plan.provider}" sent a response that is not JSON`,
    );
  if (plan.translate === undefined) {
    x.headers.set("content-type", x.upstream.headers.get("content-type") ?? "application/json");
    const status = x.upstream.status;
    if (config.guardrail.mode === "off") return new Response(x.upstream.body, { status, headers: x.headers });
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await x.upstream.arrayBuffer());
    } catch {
      // The connection dropped mid-body: part of an answer is not an answer.
      throw new GatewayError(
        502,
        ERROR_CODE.upstreamError,
        `provider "${plan.provider}" did not send its whole response`,
      );
    }
    const guarded = guardAnswerBody(bytes, format, config.guardrail, x.state);
    if (!guarded.ok) throw notJson();
    return new Response(guarded.body, { status, headers: x.headers });
  }
  if (plan.stream) {
    await x.upstream.body?.cancel();
    throw new GatewayError(
      502,
      ERROR_CODE.upstreamError,
      `provider "${plan.provider}" did not answer with a stream`,
    );
  }
  let json: unknown;
  try {
    json = await x.upstream.json();
  } catch {
    throw notJson();
  }
  x.headers.set("content-type", "application/json");
  const translator = TRANSLATORS[plan.translate.family];
  // Every translator answers an OpenAI chat completion: it is guarded in the client's format.
  const guarded = guardJsonAnswer(
    format,
    config.guardrail,
    translator.translateResponse(json, plan.translate.identity),
  );
  reportAnswer(guarded, config.guardrail, x.state);
  return new Response(JSON.stringify(guarded.json), { headers: x.headers });
}

/** Runs a plan with the client connected directly: no stream id, no resume. */
export async function runDirect(
  plan: StreamPlan,
  request: Request,
  env: Env,
  config: GatewayConfig,
  onStream: (state: StreamState) => void = () => {},
): Promise<Response> {
  const x = await openPlan(plan, request, config, (state) => {
    if (!plan.stream) return;
    trackStream(plan, state, env);
    onStream(state);
  });
  if (!plan.stream || !x.isStream) return jsonResponse(plan, x, config);
  const steps = guardSteps(config, plan.format, x.state, (reason) => x.abort.abort(reason));
  return streamResponse(x, FORMATS[plan.format], translateStage(plan), steps);
}
