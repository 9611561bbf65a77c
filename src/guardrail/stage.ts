import type { GuardrailVerdict } from "../analytics/data-point.ts";
import { gatewayItems, type StreamItem } from "../pipeline/item.ts";
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
 * The inline guardrail as a pipeline stage. In `enforce` mode it holds back only what the rules need
 * (see GuardrailCore), rewrites events whose text was redacted in the format's own encoding (all other
 * events pass byte for byte), and on a `block` stops the upstream and ends the stream in the client's
 * format. In `observe` mode nothing is held. Verdicts (rule, action, offsets, never the text) are
 * logged and summarized for analytics.
 */
export class GuardrailStage extends TransformStream<StreamItem, StreamItem> {
  constructor(
    config: GuardrailConfig,
    format: WireFormat,
    state: StreamState,
    abortUpstream: (reason: string) => void,
  ) {
    const core = new GuardrailCore<StreamItem>(config);
    let blocked = false;
    const emit = (
      releases: readonly Release<StreamItem>[],
      controller: TransformStreamDefaultController<StreamItem>,
    ) => {
      for (const r of releases) {
        if (blocked) return;
        if (isBlock(r)) {
          blocked = true;
          const error = {
            code: ERROR_CODE.guardrailBlocked,
            message: `the answer was stopped by guardrail rule "${r.block.rule}"`,
          };
          state.stoppedBy = { outcome: STREAM_OUTCOME.blocked, error };
          state.blockedRule = r.block.rule;
          abortUpstream(`guardrail:${r.block.rule}`);
          for (const item of gatewayItems(format.blockedFrames(r.block.rule), {
            parts: [],
            signal: "complete",
          })) {
            controller.enqueue(item);
          }
          return;
        }
        if (r.heldFor > 0) state.metrics.holdback(r.heldFor);
        if (r.texts === undefined) controller.enqueue(r.event);
        else {
          const texts = r.texts;
          const parts = r.event.info.parts.map((p, i) => ({ ...p, text: texts[i] ?? p.text }));
          controller.enqueue({ ev: format.rewrite(r.event.ev, texts), info: { ...r.event.info, parts } });
        }
      }
    };
    const report = () => {
      state.guardrail = summarize(core.verdicts);
      if (core.verdicts.length > 0) {
        console.log(
          JSON.stringify({
            event: "guardrail",
            verdict: state.guardrail,
            verdicts: core.verdicts,
            window: core.window,
          }),
        );
      }
    };
    super({
      transform(item, controller) {
        // After a block nothing else may reach the client: not held text, not a later error event.
        if (blocked) return;
        const now = Date.now();
        emit(core.push(item, item.info.parts, now), controller);
        for (const p of item.info.parts) if (p.final === true) emit(core.close(p.channel, now), controller);
        if (blocked) report();
      },
      flush(controller) {
        if (!blocked) emit(core.end(Date.now()), controller);
        report();
      },
    });
  }
}
