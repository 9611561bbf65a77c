/**
 * What `npm run bench` starts and measures, as data. A new row is one more entry in SCENARIOS
 * (and, when it needs a differently configured gateway, one more entry in TARGETS).
 */
import { parseGuardrailConfig } from "../src/guardrail/config.ts";
import type { StreamPlan } from "./plan.ts";
import { ANTHROPIC_NATIVE, ANTHROPIC_VIA_UNIFIED, OPENAI_NATIVE } from "./routes.ts";
import { type Comparison, GATEWAY_VS_PASSTHROUGH, type Scenario } from "./scenario.ts";
import {
  classifierHoldScenario,
  concurrentScenario,
  eventDelayScenario,
  firstContentScenario,
  hostCapacityScenario,
  peakMemoryScenario,
  replayScenario,
  resilienceScenario,
  scanThroughputScenario,
  storedRowsScenario,
  throughputScenario,
  translatedScenario,
  ttftScenario,
  webSocketScenario,
} from "./scenarios/index.ts";
import {
  defaultsTarget,
  directTarget,
  gatewayTarget,
  jsStageTarget,
  objectsFloorTarget,
  passthroughTarget,
  type Target,
} from "./targets.ts";

/** How to start one target once the mock listens at `mockOrigin`. */
export interface TargetSpec {
  readonly id: string;
  start(mockOrigin: string): Promise<Target>;
}

/** Gateway settings for plain streaming: no Durable Object hop, no guardrail. */
const PLAIN_GATEWAY = { RESUMABLE: "false", GUARDRAIL_MODE: "off" } as const;

/**
 * The guardrail rules of the observe/enforce rows and of the scan: wrangler.toml's default (empty:
 * all 13 built-in rules on, credentials and payment cards redacted, other PII flagged).
 */
const GUARDRAIL_RULES = "";

/** Each variant changes one setting of the plain gateway, so its rows show that setting's cost. */
const RESUMABLE_GATEWAY = { ...PLAIN_GATEWAY, RESUMABLE: "true" };
const OBSERVE_GATEWAY = { ...PLAIN_GATEWAY, GUARDRAIL_MODE: "observe", GUARDRAIL_RULES };
const ENFORCE_GATEWAY = { ...PLAIN_GATEWAY, GUARDRAIL_MODE: "enforce", GUARDRAIL_RULES };
/** Issue 14's hedging deadline. */
const HEDGE_DEADLINE_MS = 500;
const HEDGE_GATEWAY = { ...PLAIN_GATEWAY, TTFT_DEADLINE_MS: String(HEDGE_DEADLINE_MS) };
/** Issue 15: the plain gateway with keep-alives off, so the per-event delay shows what they cost. */
const NO_KEEPALIVE_GATEWAY = { ...PLAIN_GATEWAY, KEEPALIVE_MS: "0" };

/** The systems under test, in table column order. */
export const TARGETS: readonly TargetSpec[] = [
  { id: "direct", start: async (mock) => directTarget(mock) },
  { id: "passthrough", start: (mock) => passthroughTarget(mock) },
  { id: "js-stage", start: (mock) => jsStageTarget(mock) },
  // Issue 17's floor: the default's two object calls (its stream host, its principal's slot) alone.
  { id: "objects-floor", start: (mock) => objectsFloorTarget(mock) },
  // The core issue's streaming path. wrangler.toml turns the Durable Object hop and the guardrail
  // on by default; each has its own variant below.
  { id: "gateway", start: (mock) => gatewayTarget(mock, "gateway", PLAIN_GATEWAY) },
  // Issue 4: every stream through its Durable Object (requests never send `x-resumable: false`).
  {
    id: "gateway-resumable",
    start: (mock) => gatewayTarget(mock, "gateway-resumable", RESUMABLE_GATEWAY),
  },
  // Issue 5: the guardrail scanning and reporting without holding text, then holding its window.
  { id: "gateway-observe", start: (mock) => gatewayTarget(mock, "gateway-observe", OBSERVE_GATEWAY) },
  { id: "gateway-enforce", start: (mock) => gatewayTarget(mock, "gateway-enforce", ENFORCE_GATEWAY) },
  // Issue 14: the plain gateway with a TTFT deadline, which hedges a slow first target.
  { id: "gateway-hedge", start: (mock) => gatewayTarget(mock, "gateway-hedge", HEDGE_GATEWAY) },
  // Issue 17: the gateway as wrangler.toml configures it (resumable, guardrail enforce with the default
  // rules, anonymous access off, 20 open streams per principal, every other default): what users run.
  // Only the rate-limit bindings are left out (see defaultsTarget).
  { id: "gateway-default", start: (mock) => defaultsTarget(mock, "gateway-default") },
  // Issue 17's design, side by side: the default with every stream in an object of its own (the design
  // before stream hosts), and with every stream on one host (what one object carries).
  {
    id: "gateway-own-objects",
    start: (mock) => defaultsTarget(mock, "gateway-own-objects", { STREAM_HOSTS: "0" }),
  },
  {
    id: "gateway-one-host",
    start: (mock) => defaultsTarget(mock, "gateway-one-host", { STREAM_HOSTS: "1" }),
  },
  // Issue 15: keep-alives off (the plain gateway has wrangler.toml's KEEPALIVE_MS, 15 s).
  {
    id: "gateway-no-keepalive",
    start: (mock) => gatewayTarget(mock, "gateway-no-keepalive", NO_KEEPALIVE_GATEWAY),
  },
];

/** A token delta is a few characters; 16 keeps events near a real chunk's ~200 bytes with the JSON. */
const PACED = { events: 100, intervalMs: 10, padChars: 16 } as const satisfies StreamPlan;

/** The gateway variants, each the plain gateway with one setting changed. */
const VARIANTS = ["gateway-resumable", "gateway-observe", "gateway-enforce"];

/** Issue 4: the Durable Object hop may cost at most 1 ms p50 over the passthrough. */
const RESUMABLE_GOAL = {
  over: "passthrough",
  quantile: "p50",
  goal: { subject: "gateway-resumable", boundMs: 1 },
} as const;

/** TTFT: every target; one setting's own cost shows over the plain gateway. */
const TTFT_COMPARE: Comparison = {
  ...GATEWAY_VS_PASSTHROUGH,
  also: [
    "js-stage",
    "objects-floor",
    "gateway-resumable",
    "gateway-observe",
    "gateway-enforce",
    "gateway-default",
    "gateway-own-objects",
  ],
  deltas: [
    RESUMABLE_GOAL,
    // Issue 17: the default configuration within 1 ms of the plain gateway.
    {
      over: "gateway",
      quantile: "p50",
      columns: ["gateway-default", "gateway-own-objects"],
      goal: { subject: "gateway-default", boundMs: 1 },
    },
    {
      over: "gateway",
      quantile: "p50",
      columns: VARIANTS,
      note: "each variant's one setting, over the plain gateway",
    },
    // What the default's two object calls cost by themselves: the least its TTFT can be over the plain
    // gateway, whose pipeline is one JS stage in the worker where the default's is in its host.
    {
      over: "js-stage",
      quantile: "p50",
      columns: ["objects-floor"],
      note: "two warm object calls alone: the floor under the default's TTFT over the plain gateway",
    },
  ],
};

/**
 * Per-event delay: `gateway-enforce` is left out (its held-back window, not its CPU, sets each
 * event's delay; the first-content block shows it). Issue 5: observe ≤ off + 0.1 ms p50.
 */
const DELAY_COMPARE: Comparison = {
  ...GATEWAY_VS_PASSTHROUGH,
  also: ["js-stage", "gateway-resumable", "gateway-observe", "gateway-no-keepalive", "gateway-default"],
  deltas: [
    RESUMABLE_GOAL,
    // Issue 17: the default configuration's per-event delay within 0.15 ms of the one-JS-stage floor.
    {
      over: "js-stage",
      quantile: "p50",
      columns: ["gateway-default"],
      goal: { subject: "gateway-default", boundMs: 0.15 },
    },
    // Issue 15: keep-alives cost nothing while tokens flow (their timer is only touched per event).
    {
      over: "gateway-no-keepalive",
      quantile: "p50",
      columns: ["gateway"],
      goal: { subject: "gateway", boundMs: 0.1 },
      note: "keep-alives on − off",
    },
    {
      over: "gateway",
      quantile: "p50",
      columns: VARIANTS,
      goal: { subject: "gateway-observe", boundMs: 0.1 },
    },
  ],
};

/** The enforce window the gateway-enforce target holds back, from the same configuration. */
const WINDOW = (() => {
  const parsed = parseGuardrailConfig("enforce", GUARDRAIL_RULES);
  if (!parsed.ok) throw new Error(`bench: ${parsed.error}`);
  const w = parsed.config.window;
  return `window ${w.chars} chars ≈ ${w.tokens} tokens (widest rule ${w.rule ?? "none"}, cap ${w.capChars} chars)`;
})();

/** A paced stream whose text after the first token arrives over time, as tokens do. */
const FIRST_CONTENT_PLAN = { events: 20, intervalMs: 10, padChars: 16 } as const satisfies StreamPlan;

/** Issue 5's enforce rows: what holding the window adds over the same gateway with the guardrail off. */
const ENFORCE_COMPARE: Comparison = {
  baseline: "direct",
  reference: "gateway",
  also: ["passthrough", "gateway-observe"],
  subject: "gateway-enforce",
  deltas: [
    { over: "gateway", quantile: "p50", columns: VARIANTS, note: "enforce − off: the hold-back" },
    { over: "gateway", quantile: "p99", columns: VARIANTS },
  ],
};

/** The rows of the table, in order. */
export const SCENARIOS: readonly Scenario[] = [
  ttftScenario({
    id: "ttft",
    title: "Time to first token: 200 sequential streams per target (request start → first body bytes)",
    route: OPENAI_NATIVE,
    compare: TTFT_COMPARE,
    samples: 200,
    warmup: 20,
  }),
  eventDelayScenario({
    id: "event-delay",
    title: "Per-event delay: 100 events at 10 ms, 10 streams per target (arrival − mock's send stamp)",
    route: OPENAI_NATIVE,
    compare: DELAY_COMPARE,
    plan: PACED,
    streams: 10,
  }),
  throughputScenario({
    id: "throughput",
    title: "Single-stream throughput: 5,000 small events, no spacing",
    route: OPENAI_NATIVE,
    compare: { ...TTFT_COMPARE, deltas: [] },
    plan: { events: 5000, intervalMs: 0, padChars: 8 },
    repeats: 3,
  }),
  concurrentScenario({
    id: "concurrent",
    title:
      "500 concurrent streams of 100 events at 10 ms, one target at a time, 3 rounds in a new order each (medians)",
    route: OPENAI_NATIVE,
    compare: { ...GATEWAY_VS_PASSTHROUGH, also: ["js-stage", "gateway-default", "gateway-own-objects"] },
    plan: PACED,
    streams: 500,
    rounds: 3,
    stallMs: 1000,
    // Issue 17: 0 failed, no gap over 250 ms, last done and CPU per event within 1.5× the plain gateway.
    defaults: { id: "gateway-default", gapMs: 250, factor: 1.5 },
  }),
  hostCapacityScenario({
    id: "host-capacity",
    title:
      "Issue 17, one stream host's ceiling: 20 streams of 2,000 small events at once, no spacing, all in one Durable Object (STREAM_HOSTS=1) against the plain gateway",
    route: OPENAI_NATIVE,
    host: "gateway-one-host",
    reference: "gateway",
    streams: 20,
    plan: { events: 2000, intervalMs: 0, padChars: 8 },
    repeats: 3,
  }),
  translatedScenario({
    id: "translated",
    title:
      "Issue 3, translated stream: Anthropic upstream, 100 events at 10 ms, 5 streams per series; gateway = POST /v1/chat/completions, model anthropic/…, translated to OpenAI chunks; direct and passthrough read the Anthropic stream as is",
    route: ANTHROPIC_VIA_UNIFIED,
    untranslated: ANTHROPIC_NATIVE,
    compare: { ...GATEWAY_VS_PASSTHROUGH, also: [] },
    plan: PACED,
    streams: 5,
  }),
  replayScenario({
    id: "replay",
    title:
      "Issue 4, replay: GET /v1/streams/{id} of a finished 10,000-event stream (all events, from the first)",
    target: "gateway-resumable",
    route: OPENAI_NATIVE,
    plan: { events: 10_000, intervalMs: 0, padChars: 8 },
    repeats: 3,
  }),
  storedRowsScenario({
    id: "stored-rows",
    title:
      "Issue 4, storage: SQLite rows the stream's Durable Object wrote, per 1,000 events (counted, on a storage-inspectable copy of gateway-resumable)",
    column: "gateway-resumable",
    bindings: RESUMABLE_GATEWAY,
    route: OPENAI_NATIVE,
    plans: [
      { label: "a burst of 1,000", plan: { events: 1000, intervalMs: 0, padChars: 8 } },
      { label: "100 at 10 ms", plan: PACED },
      {
        label: "30 at 35 ms (demo pace)",
        plan: { events: 30, intervalMs: 35, padChars: 16 },
      },
    ],
  }),
  scanThroughputScenario({
    id: "guardrail-scan",
    title:
      "Issue 5, guardrail scan throughput: pure core in this process (Node 22), all 13 built-in rules on (defaults), 1 MB of prose with a secret or PII every ~2,000 chars",
    rules: GUARDRAIL_RULES,
    columns: { off: "gateway", observe: "gateway-observe", enforce: "gateway-enforce" },
    corpusChars: 1_000_000,
    splits: [
      { label: "token-sized deltas (1–8 chars)", minChars: 1, maxChars: 8 },
      { label: "1 KiB parts", minChars: 1024, maxChars: 1024 },
    ],
    repeats: 3,
  }),
  firstContentScenario({
    id: "enforce-first-content",
    title: `Issue 5, enforce window on text no rule can start: 20 events at 10 ms ("[t=…]xxxx…", ~31 chars), 10 streams per target (request start → first content event); ${WINDOW}`,
    route: OPENAI_NATIVE,
    compare: ENFORCE_COMPARE,
    plan: FIRST_CONTENT_PLAN,
    streams: 10,
    warmup: 2,
  }),
  firstContentScenario({
    id: "enforce-first-content-digits",
    title:
      'Issue 5, enforce window on text a rule may still match: the same with digit filler ("[t=…]1234567890123456", a possible card number until the next event)',
    route: OPENAI_NATIVE,
    compare: { ...ENFORCE_COMPARE, also: [] },
    plan: { ...FIRST_CONTENT_PLAN, padDigits: true },
    streams: 10,
    warmup: 2,
  }),
  classifierHoldScenario({
    id: "classifier-hold",
    title:
      "Issue 18, guardrail classifier in hold mode: the gateway's pipeline in this process (Node 22; rules, then the classifier step), 160 one-token events at 10 ms, an http classifier over loopback every 40 tokens with 200 of context; 3 streams per row (event sent upstream → received by the client)",
    column: "gateway",
    delaysMs: [20, 200],
    events: 160,
    intervalMs: 10,
    everyTokens: 40,
    contextTokens: 200,
    streams: 3,
  }),
  resilienceScenario({
    id: "resilience",
    title:
      "Issue 14, resilience on POST /v1/chat/completions (request start → first content; defaults: RETRY_ATTEMPTS 3, RETRY_BACKOFF_MS 250 jittered, CIRCUIT_FAILURES 3): a healthy chain against no chain, one 503, a target down, a first target 3 s slow",
    plain: "gateway",
    hedging: "gateway-hedge",
    deadlineMs: HEDGE_DEADLINE_MS,
    plan: { events: 5, intervalMs: 10, padChars: 8 },
    samples: 100,
    failingSamples: 20,
    slowSamples: 3,
    warmup: 10,
    healthyBoundMs: 0.25,
    hedgeBoundMs: 5,
  }),
  // Keep last: it reads each workerd's high-water mark over every scenario above.
  peakMemoryScenario(),
  webSocketScenario({
    id: "websocket",
    title:
      "Issue 19: the paced stream over the gateway's WebSocket (/v1/ws, one warm socket) against SSE, 10 streams each, alternating",
    column: "gateway-resumable",
    plan: PACED,
    streams: 10,
  }),
];

/** The goals judged in the table, in words, printed under it. */
export const GOALS: readonly string[] = [
  "core (gateway): added TTFT and event delay (target − direct at the same percentile) ≤ 1.5× the passthrough's; at 500 concurrent streams every stream completes and no gap between two events reaches 1 s",
  "issue 3 (gateway on /v1/chat/completions, Anthropic upstream translated): added event delay ≤ 1.5× the passthrough's",
  "issue 4 (gateway-resumable): TTFT p50 and event delay p50 ≤ the passthrough's + 1 ms (the Durable Object hop)",
  "issue 5 (gateway-observe): event delay p50 ≤ the plain gateway's (guardrail off) + 0.1 ms",
  "issue 17 (gateway-default, wrangler.toml as it is, rate limits aside): TTFT p50 ≤ the plain gateway's + 1 ms; event delay p50 ≤ the one-JS-stage floor + 0.15 ms; under 500 concurrent streams none fails or has a gap over 250 ms, the last is done within 1.5× the plain gateway's time, and workerd CPU per event is within 1.5× the plain gateway's",
  "issue 15: keep-alives cost nothing while tokens flow (gateway event delay p50 ≤ gateway-no-keepalive + 0.1 ms)",
  "issue 14: a chain whose first target is healthy costs nothing (first content p50 ≤ no chain + 0.25 ms); a first target 3 s slow, hedged at 500 ms, answers by 500 ms + the no-chain first content + 5 ms",
];
