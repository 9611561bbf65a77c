/**
 * Issue 18's rows: what `hold` mode costs. The gateway's own pipeline (the rules' step, then the
 * classifier step, exactly as `exchange/stages.ts` builds them) runs in this process over a paced
 * synthetic OpenAI stream, its classifier an `http` one reached over loopback HTTP (a node:http mock
 * answering after a fixed delay), so the figures are the window's wait plus the call, without workerd.
 * The same stream without a classifier is the reference: its per-event delay is the pipeline's own.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { bindClassifiers } from "../../src/guardrail/classifiers/bind.ts";
import { parseClassifiers } from "../../src/guardrail/classifiers/config.ts";
import { VerdictLog } from "../../src/guardrail/classifiers/report.ts";
import { ClassifierStep } from "../../src/guardrail/classifiers/step.ts";
import { parseGuardrailConfig } from "../../src/guardrail/config.ts";
import { GuardrailStep } from "../../src/guardrail/stage.ts";
import { bodySource } from "../../src/pipeline/body-source.ts";
import { buildPipeline } from "../../src/pipeline/build.ts";
import type { ItemStep } from "../../src/pipeline/steps.ts";
import { StreamState } from "../../src/pipeline/stream-state.ts";
import { FORMATS } from "../../src/upstream/registry.ts";
import type { BenchContext, Row, Scenario } from "../scenario.ts";
import { quantile } from "../stats.ts";

/** How the hold-mode scenario is run. */
export interface ClassifierHoldOptions {
  readonly id: string;
  readonly title: string;
  /** The column the figures go in (the gateway's own pipeline). */
  readonly column: string;
  /** Classifier answer delays to measure, in ms. */
  readonly delaysMs: readonly number[];
  /** Content events per stream, one every `intervalMs` (each ~4 chars, one token). */
  readonly events: number;
  readonly intervalMs: number;
  /** The classifier's window (`everyTokens`) and context. */
  readonly everyTokens: number;
  readonly contextTokens: number;
  /** Streams per configuration (after one warm-up stream). */
  readonly streams: number;
}

const chat = FORMATS["openai-chat"];
const encoder = new TextEncoder();

/** A mock classifier answering `{"flagged":false}` after `delayMs`. */
async function mockClassifier(delayMs: number): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      setTimeout(
        () => res.writeHead(200, { "content-type": "application/json" }).end('{"flagged":false}'),
        delayMs,
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, server };
}

/** `i` as 3 letters (base 26): no digits, so no built-in rule (cards, phones) ever matches the filler. */
function tokenOf(i: number): string {
  const a = 97;
  return String.fromCharCode(a + (Math.floor(i / 676) % 26), a + (Math.floor(i / 26) % 26), a + (i % 26));
}

/** The index `tokenOf` wrote. */
function indexOf(token: string): number {
  return [...token].reduce((n, ch) => n * 26 + ch.charCodeAt(0) - 97, 0);
}

/**
 * A paced upstream: event `i` carries `i` in letters on 3 chars and a space, so exactly one token of
 * 4 chars (the rule window's estimate) and a window is exactly `everyTokens` events; each event is
 * timestamped when handed to the gateway.
 */
function pacedUpstream(events: number, intervalMs: number, sentAt: number[]): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (i > 0) await new Promise((r) => setTimeout(r, intervalMs));
        if (i < events) {
          const text = `${tokenOf(i)} `;
          sentAt[i] = performance.now();
          controller.enqueue(
            encoder.encode(`data: {"choices":[{"index":0,"delta":{"content":"${text}"}}]}\n\n`),
          );
        } else if (i === events) {
          controller.enqueue(
            encoder.encode(
              'data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n',
            ),
          );
        } else controller.close();
        i++;
      },
    },
    { highWaterMark: 0 },
  );
}

/** One stream: each content event's delay (client receipt − upstream send), in ms, by event index. */
async function oneStream(opts: ClassifierHoldOptions, classifierUrl: string | undefined): Promise<number[]> {
  const state = new StreamState();
  const abortUpstream = () => {};
  const rules = parseGuardrailConfig("enforce", "");
  if (!rules.ok) throw new Error(rules.error);
  const steps: ItemStep[] = [new GuardrailStep(rules.config, chat, state, abortUpstream)];
  if (classifierUrl !== undefined) {
    const specs = parseClassifiers([
      {
        name: "bench",
        kind: "http",
        url: classifierUrl,
        everyTokens: opts.everyTokens,
        contextTokens: opts.contextTokens,
        timeoutMs: 5000,
      },
    ]);
    if (!specs.ok) throw new Error(specs.error);
    const bound = bindClassifiers(specs.value, { fetch, secret: () => undefined, ai: undefined });
    const log = new VerdictLog(() => {});
    steps.push(
      new ClassifierStep(bound, { format: chat, state, abortUpstream, userText: "q", observe: false, log }),
    );
  }
  const sentAt: number[] = [];
  const body = bodySource(pacedUpstream(opts.events, opts.intervalMs, sentAt));
  const out = buildPipeline({ body, format: chat, state, abortUpstream, steps, maxEventBytes: 1 << 20 });
  const delays: number[] = [];
  const decoder = new TextDecoder();
  const reader = out.getReader();
  for (;;) {
    const r = await reader.read();
    if (r.done) break;
    const now = performance.now();
    for (const m of decoder.decode(r.value, { stream: true }).matchAll(/"content":"([a-z]{3}) "/g)) {
      const i = indexOf(m[1] ?? "");
      const sent = sentAt[i];
      if (sent !== undefined) delays[i] = now - sent;
    }
  }
  if (delays.filter((d) => d !== undefined).length !== opts.events)
    throw new Error(
      `bench: ${delays.filter((d) => d !== undefined).length} of ${opts.events} events arrived`,
    );
  return delays;
}

/** First-content and per-event delay in hold mode, per classifier latency, beside no classifier. */
export function classifierHoldScenario(opts: ClassifierHoldOptions): Scenario {
  return {
    id: opts.id,
    title: opts.title,
    async run(ctx: BenchContext) {
      const rows: Row[] = [];
      const detail: Record<string, unknown> = {};
      const configs: { label: string; delay: number | undefined }[] = [
        { label: "no classifier", delay: undefined },
        ...opts.delaysMs.map((d) => ({ label: `hold, classifier answering in ${d} ms`, delay: d })),
      ];
      for (const c of configs) {
        const mock = c.delay === undefined ? undefined : await mockClassifier(c.delay);
        try {
          await oneStream(opts, mock?.url);
          const first: number[] = [];
          const all: number[] = [];
          const windows: number[] = [];
          for (let s = 0; s < opts.streams; s++) {
            const delays = await oneStream(opts, mock?.url);
            first.push(delays[0] ?? Number.NaN);
            all.push(...delays);
            // The event that completes a window waits only for its call: the per-window delay.
            for (let i = opts.everyTokens - 1; i < delays.length; i += opts.everyTokens)
              windows.push(delays[i] ?? Number.NaN);
          }
          first.sort((a, b) => a - b);
          all.sort((a, b) => a - b);
          windows.sort((a, b) => a - b);
          const fill = opts.everyTokens * opts.intervalMs;
          const note =
            c.delay === undefined
              ? "the pipeline's own cost: no window, no call"
              : `a window fills in ~${fill} ms (${opts.everyTokens} tokens at ${opts.intervalMs} ms); held ≈ fill + call`;
          rows.push(
            {
              metric: `${c.label}: first content delay p50`,
              unit: "ms",
              values: { [opts.column]: quantile(first, 0.5) },
              note,
            },
            {
              metric: `${c.label}: per-window delay p50 (window's last token → client)`,
              unit: "ms",
              values: { [opts.column]: quantile(windows, 0.5) },
            },
            {
              metric: `${c.label}: per-event delay p50`,
              unit: "ms",
              values: { [opts.column]: quantile(all, 0.5) },
            },
            {
              metric: `${c.label}: per-event delay max`,
              unit: "ms",
              values: { [opts.column]: all[all.length - 1] },
            },
          );
          detail[c.label] = {
            firstContentMs: first,
            perWindowMs: windows,
            perEvent: { p50: quantile(all, 0.5), p99: quantile(all, 0.99) },
          };
          ctx.log(
            `  ${c.label}: first content p50 ${quantile(first, 0.5).toFixed(1)} ms, per event p50 ${quantile(all, 0.5).toFixed(1)} ms`,
          );
        } finally {
          mock?.server.close();
        }
      }
      return { rows, detail };
    },
  };
}
