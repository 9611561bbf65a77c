/**
 * What `npm run bench` starts and measures, as data. A later row is one more entry in
 * SCENARIOS (and, when it needs a differently configured gateway, one more entry in TARGETS).
 */
import { OPENAI_NATIVE } from "./routes.ts";
import { GATEWAY_VS_PASSTHROUGH, type Scenario } from "./scenario.ts";
import {
  concurrentScenario,
  eventDelayScenario,
  peakMemoryScenario,
  throughputScenario,
  ttftScenario,
} from "./scenarios/index.ts";
import { directTarget, gatewayTarget, jsStageTarget, passthroughTarget, type Target } from "./targets.ts";

/** How to start one target once the mock listens at `mockOrigin`. */
export interface TargetSpec {
  readonly id: string;
  start(mockOrigin: string): Promise<Target>;
}

/** Gateway settings for plain streaming: no Durable Object hop, no guardrail. */
const PLAIN_GATEWAY = { RESUMABLE: "false", GUARDRAIL_MODE: "off" } as const;

/** The systems under test, in table column order. */
export const TARGETS: readonly TargetSpec[] = [
  { id: "direct", start: async (mock) => directTarget(mock) },
  { id: "passthrough", start: (mock) => passthroughTarget(mock) },
  { id: "js-stage", start: (mock) => jsStageTarget(mock) },
  // The core issue's streaming path. wrangler.toml turns the Durable Object hop and the guardrail
  // on by default; each has its own rows (issues 4 and 5), so here both are off.
  { id: "gateway", start: (mock) => gatewayTarget(mock, "gateway", PLAIN_GATEWAY) },
  // Later rows add variants, e.g. { id: "gateway-resumable", start: (mock) =>
  // gatewayTarget(mock, "gateway-resumable", { ...PLAIN_GATEWAY, RESUMABLE: "true" }) } (issue 4), or
  // gatewayTarget(mock, "gateway-observe", { ...PLAIN_GATEWAY, GUARDRAIL_MODE: "observe" }) (issue 5).
];

/** A token delta is a few characters; 16 keeps events near a real chunk's ~200 bytes with the JSON. */
const PACED = { events: 100, intervalMs: 10, padChars: 16 } as const;

/** The rows of the table, in order. */
export const SCENARIOS: readonly Scenario[] = [
  ttftScenario({
    id: "ttft",
    title: "Time to first token: 200 sequential streams per target (request start → first body bytes)",
    route: OPENAI_NATIVE,
    compare: GATEWAY_VS_PASSTHROUGH,
    samples: 200,
    warmup: 20,
  }),
  eventDelayScenario({
    id: "event-delay",
    title: "Per-event delay: 100 events at 10 ms, 10 streams per target (arrival − mock's send stamp)",
    route: OPENAI_NATIVE,
    compare: GATEWAY_VS_PASSTHROUGH,
    plan: PACED,
    streams: 10,
  }),
  throughputScenario({
    id: "throughput",
    title: "Single-stream throughput: 5,000 small events, no spacing",
    route: OPENAI_NATIVE,
    compare: GATEWAY_VS_PASSTHROUGH,
    plan: { events: 5000, intervalMs: 0, padChars: 8 },
    repeats: 3,
  }),
  concurrentScenario({
    id: "concurrent",
    title: "500 concurrent streams of 100 events at 10 ms, one target at a time",
    route: OPENAI_NATIVE,
    compare: GATEWAY_VS_PASSTHROUGH,
    plan: PACED,
    streams: 500,
    stallMs: 1000,
  }),
  // Issue 3: eventDelayScenario({ id: "translated-event-delay", route: ANTHROPIC_VIA_UNIFIED, ... }).
  // Issue 4: resumable TTFT/event delay (goal withinMs(..., 1)), replay events/s, rows per 1,000 events.
  // Issue 5: scan MB/s, observe vs off event delay (goal withinMs(..., 0.1)), enforce TTFT vs window.
  // Keep last: it reads each workerd's high-water mark over every scenario above.
  peakMemoryScenario(),
];

/** Rows later issues add, printed under the table so a reader knows they are not measured yet. */
export const PLANNED: readonly { readonly issue: number; readonly rows: string }[] = [
  {
    issue: 3,
    rows: "translated stream (Anthropic upstream via /v1/chat/completions, route ANTHROPIC_VIA_UNIFIED): added per-event delay ≤ 1.5× passthrough",
  },
  {
    issue: 4,
    rows: "resumable stream: added TTFT and per-event delay ≤ passthrough + 1 ms p50; replay events/s of a finished 10,000-event stream; storage rows per 1,000 events",
  },
  {
    issue: 5,
    rows: "guardrail: scan MB/s (all built-in rules); observe-mode per-event delay ≤ off + 0.1 ms p50; enforce-mode added TTFT next to the window the rules need",
  },
];
