import { estimateTokens } from "../analytics/token-estimate.ts";
import { GatewayError } from "../errors.ts";
import { bodySource } from "../pipeline/body-source.ts";
import type { CutAnswer, Resumed, Resumer } from "../pipeline/upstream-events.ts";
import { ERROR_CODE } from "../protocol.ts";
import type { InBandError } from "../upstream/format.ts";
import { isObject } from "../upstream/json.ts";
import type { ContinuationStrategy } from "../upstream/providers.ts";
import { FAMILIES, FORMATS } from "../upstream/registry.ts";
import { type AttemptCall, openAttempt } from "./attempt.ts";
import type { Answer } from "./attempts.ts";
import { backoffMs, sleep } from "./backoff.ts";
import type { CircuitBreakers } from "./circuit.ts";
import type { Attempt, StreamPlan } from "./plan.ts";
import { translateStage } from "./stages.ts";

/** A continuation request for one target, or why that target cannot continue this answer. */
type Continuing =
  | {
      readonly ok: true;
      readonly attempt: Attempt;
      readonly mode: "prefill" | "replay";
      readonly seamWhitespace: string;
    }
  | { readonly ok: false };

/** The attempt that continues the cut answer on `attempt`'s target with `strategy`. */
function continuing(
  attempt: Attempt,
  strategy: ContinuationStrategy,
  cut: CutAnswer,
  family: keyof typeof FAMILIES,
  replayable: boolean,
): Continuing {
  if (strategy === "off") return { ok: false };
  // A replay reproduces the text only when the client asked for deterministic sampling; otherwise it
  // would almost surely diverge, paying for a prompt and tokens for nothing.
  if (strategy === "replay") {
    return replayable ? { ok: true, attempt, mode: "replay", seamWhitespace: "" } : { ok: false };
  }
  const delivered = cut.delivered;
  // The token limit left: the tokens reported so far, else an estimate of the delivered text.
  const used = cut.outputTokens > 0 ? cut.outputTokens : estimateTokens([{ text: delivered }]);
  const prefill = FAMILIES[family].prefill;
  let body: unknown;
  try {
    body = JSON.parse(attempt.body);
  } catch {
    return { ok: false };
  }
  const built =
    prefill !== undefined && isObject(body) ? prefill(body, delivered, strategy, used) : undefined;
  if (built === undefined) return { ok: false };
  return {
    ok: true,
    attempt: { ...attempt, body: JSON.stringify(built.body) },
    mode: "prefill",
    seamWhitespace: built.seamWhitespace,
  };
}

/**
 * The continuation of a streamed answer (issue 15): when the attempt that answered fails after text
 * reached the client, at most `CONTINUATION_ATTEMPTS` attempts continue it, the same target first
 * (after its backoff), then the chain's next targets, each with its provider's strategy. `onAttempt`
 * hands the pipeline the abort of the attempt now streaming. Undefined when this answer may never be
 * continued (the request or the configuration says so, or its format has no seam).
 */
export function continuationFor(
  plan: StreamPlan,
  answer: Answer,
  call: AttemptCall,
  circuits: CircuitBreakers,
  onAttempt: (abort: AbortController) => void,
): Resumer | undefined {
  const { enabled, attempts: budget } = call.config.continuation;
  const format = FORMATS[plan.format];
  const seams = format.continuation;
  if (!enabled || budget <= 0 || plan.continuable !== true || seams === undefined) return undefined;
  const at = plan.attempts.indexOf(answer.attempt);
  const candidates = [answer.attempt, ...plan.attempts.slice(at + 1)];
  let made = 0;
  let next = 0;
  return {
    async next(why: InBandError, cut: CutAnswer): Promise<Resumed | undefined> {
      while (made < budget && next < candidates.length) {
        const target = candidates[next];
        const provider = target === undefined ? undefined : call.config.providers.get(target.provider);
        next++;
        // A target whose circuit is open is skipped here too; the one that just failed mid-stream is
        // not (its failure was after content: the request itself went through).
        if (target === undefined || provider === undefined) continue;
        if (target !== answer.attempt && !circuits.allow(target.target)) continue;
        const family = target.translate?.family ?? provider.family;
        const c = continuing(target, provider.continuation ?? "off", cut, family, plan.replayable === true);
        if (!c.ok) continue;
        made++;
        // The same target again only after its backoff: it has just failed.
        if (target === answer.attempt)
          await sleep(backoffMs(1, call.config.resilience.retryBackoffMs), call.clientGone);
        if (call.clientGone?.aborted === true) return undefined;
        const started = Date.now();
        const log = { target: target.target, strategy: c.mode, after: why.code };
        circuits.begin(target.target);
        try {
          const x = await openAttempt(c.attempt, call);
          if (!x.isStream || x.upstream.body === null) {
            x.abort.abort("not a stream");
            throw new GatewayError(502, ERROR_CODE.upstreamError, "the continuing attempt did not stream");
          }
          onAttempt(x.abort);
          circuits.success(target.target);
          console.log(JSON.stringify({ msg: "answer continued", ...log, ms: Date.now() - started }));
          return {
            body: bodySource(x.upstream.body),
            translation: translateStage(c.attempt, format),
            seam: seams.seam({
              mode: c.mode,
              delivered: cut.delivered,
              seamWhitespace: c.seamWhitespace,
              firstData: cut.firstData,
              priorOutputTokens: cut.outputTokens,
            }),
          };
        } catch (err) {
          // A target that refuses the prefill (Claude 4.6+ answers 400) cannot continue: that refusal
          // is never what the client sees, the first failure is.
          const status = err instanceof GatewayError ? err.status : 502;
          // A refused prefill says the target cannot continue, not that it is down.
          if (status !== 400) circuits.failure(target.target);
          console.log(
            JSON.stringify({ msg: "continuation attempt failed", ...log, status, ms: Date.now() - started }),
          );
        }
      }
      return undefined;
    },
  };
}
