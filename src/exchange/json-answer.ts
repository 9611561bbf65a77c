import { GatewayError } from "../errors.ts";
import { guardAnswerBody, reportAnswer } from "../guardrail/answer-guard.ts";
import { classifyAnswer } from "../guardrail/classifiers/answer.ts";
import { VerdictLog } from "../guardrail/classifiers/report.ts";
import { guardJsonAnswer } from "../guardrail/json-answer.ts";
import { ERROR_CODE } from "../protocol.ts";
import { isObject, tryParse } from "../upstream/json.ts";
import { FAMILIES, FORMATS } from "../upstream/registry.ts";
import type { OpenExchange } from "./attempt.ts";
import type { Attempt, StreamPlan } from "./plan.ts";
import type { GatewayConfig } from "./settings.ts";

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
  attempt: Attempt,
  x: OpenExchange,
  config: GatewayConfig,
): Promise<Response> {
  const format = FORMATS[plan.format];
  const notJson = () =>
    new GatewayError(
      502,
      ERROR_CODE.upstreamError,
      `provider "${attempt.provider}" sent a response that is not JSON`,
    );
  if (attempt.translate === undefined) {
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
        `provider "${attempt.provider}" did not send its whole response`,
      );
    }
    const guarded = guardAnswerBody(bytes, format, config.guardrail, x.state);
    if (!guarded.ok) throw notJson();
    const body = await classified(plan, config, x, guarded.body);
    return new Response(body, { status, headers: x.headers });
  }
  if (plan.stream) {
    await x.upstream.body?.cancel();
    throw new GatewayError(
      502,
      ERROR_CODE.upstreamError,
      `provider "${attempt.provider}" did not answer with a stream`,
    );
  }
  let json: unknown;
  try {
    json = await x.upstream.json();
  } catch {
    throw notJson();
  }
  x.headers.set("content-type", "application/json");
  const translator = FAMILIES[attempt.translate.family].translator;
  // Every translator answers an OpenAI chat completion: it is guarded in the client's format.
  const guarded = guardJsonAnswer(
    format,
    config.guardrail,
    translator.translateResponse(json, attempt.translate.identity),
  );
  reportAnswer(guarded, config.guardrail, x.state);
  const answer = JSON.stringify(guarded.json);
  return new Response(await classified(plan, config, x, answer), { headers: x.headers });
}

/**
 * The answer body after the output classifiers judged it (the rules already ran): unchanged, or the
 * format's blocked answer naming the classifier that blocked it. Without output classifiers, or when
 * the rules blocked it already, the body is not read again.
 */
async function classified(
  plan: StreamPlan,
  config: GatewayConfig,
  x: OpenExchange,
  body: Uint8Array | string,
): Promise<Uint8Array | string> {
  const mode = config.guardrail.mode;
  if (
    x.state.blockedRule !== undefined ||
    !config.classifiers.some((c) => c.spec.applyTo.includes("output"))
  ) {
    return body;
  }
  const json = tryParse(typeof body === "string" ? body : new TextDecoder().decode(body));
  if (json === undefined) return body;
  const format = FORMATS[plan.format];
  const log = new VerdictLog();
  const name = await classifyAnswer(config.classifiers, mode, format, json, plan.userText, log);
  x.state.classifiers = log.summary;
  if (name === undefined) return body;
  x.state.blockedRule = name;
  return JSON.stringify(format.blockedAnswer(isObject(json) ? json : {}, name, "classifier"));
}
