import type { GuardrailVerdict } from "../analytics/data-point.ts";
import { gatewayItems, type StreamItem } from "../pipeline/item.ts";
import type { ItemStep } from "../pipeline/steps.ts";
import type { StreamState } from "../pipeline/stream-state.ts";
import { ERROR_CODE, STREAM_OUTCOME } from "../protocol.ts";
import type { WireFormat } from "../upstream/format.ts";
import { GuardrailCore, isBlock, type Release } from "./scanner.ts";
import type { GuardrailConfig, Verdict } from "./types.ts";

const SEVERITY = { flag: 1, redact: 2, block: 3 } as const;

/** The most severe action taken, as the analytics verdict (`none`, `flag:email`, `block:openai_key`...). */
export function summarize(verdicts: readonly Verdict[]): GuardrailVerdict {
  let worst: Verdict | undefined;
  for (const v of verdicts) if (worst === undefined || SEVERITY[v.action] > SEVERITY[worst.action]) worst = v;
  return worst === undefined ? "none" : `${worst.action}:${worst.rule}`;
}

/**
 * The inline guardrail as a pipeline step (see pipeline/steps.ts). In `enforce` mode it holds back
 * only what the rules need (see GuardrailCore), rewrites events whose text was redacted in the
 * format's own encoding (all other events pass byte for byte), and on a `block` stops the upstream
 * and ends the stream in the client's format. In `observe` mode nothing is held. Verdicts (rule,
 * action, offsets, never the text) are logged and summarized for analytics.
 */
export class GuardrailStep implements ItemStep {
  readonly #core: GuardrailCore<StreamItem>;
  readonly #format: WireFormat;
  readonly #state: StreamState;
  readonly #abortUpstream: (reason: string) => void;
  #blocked = false;

  constructor(
    config: GuardrailConfig,
    format: WireFormat,
    state: StreamState,
    abortUpstream: (reason: string) => void,
  ) {
    this.#core = new GuardrailCore<StreamItem>(config);
    this.#format = format;
    this.#state = state;
    this.#abortUpstream = abortUpstream;
  }

  push(item: StreamItem): readonly StreamItem[] {
    // After a block nothing else may reach the client: not held text, not a later error event.
    if (this.#blocked) return [];
    const now = Date.now();
    const out = this.#release(this.#core.push(item, item.info.parts, now));
    for (const p of item.info.parts)
      if (p.final === true) out.push(...this.#release(this.#core.close(p.channel, now)));
    if (this.#blocked) this.#report();
    return out;
  }

  end(): readonly StreamItem[] {
    const out = this.#blocked ? [] : this.#release(this.#core.end(Date.now()));
    this.#report();
    return out;
  }

  #release(releases: readonly Release<StreamItem>[]): StreamItem[] {
    const out: StreamItem[] = [];
    const state = this.#state;
    for (const r of releases) {
      if (this.#blocked) break;
      if (isBlock(r)) {
        this.#blocked = true;
        const error = {
          code: ERROR_CODE.guardrailBlocked,
          message: `the answer was stopped by guardrail rule "${r.block.rule}"`,
        };
        // A classifier that blocked first keeps its reason: whatever came after it was dropped.
        state.stoppedBy ??= { outcome: STREAM_OUTCOME.blocked, error };
        state.blockedRule ??= r.block.rule;
        this.#abortUpstream(`guardrail:${r.block.rule}`);
        out.push(
          ...gatewayItems(this.#format.blockedEvents(r.block.rule), { parts: [], signal: "complete" }),
        );
        break;
      }
      if (r.heldFor > 0) state.metrics.holdback(r.heldFor);
      if (r.texts === undefined) out.push(r.event);
      else {
        const texts = r.texts;
        const parts = r.event.info.parts.map((p, i) => ({ ...p, text: texts[i] ?? p.text }));
        out.push({ ev: this.#format.rewrite(r.event.ev, texts), info: { ...r.event.info, parts } });
      }
    }
    return out;
  }

  #report(): void {
    const core = this.#core;
    // Read once: each read brings the batched rules up to date, copies and sorts.
    const verdicts = core.verdicts;
    this.#state.guardrail = summarize(verdicts);
    if (verdicts.length > 0) {
      console.log(
        JSON.stringify({
          event: "guardrail",
          verdict: this.#state.guardrail,
          verdicts,
          window: core.window,
        }),
      );
    }
  }
}
