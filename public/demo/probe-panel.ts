import { SseReader } from "../../src/client/index.ts";
import { byId } from "./dom.ts";

// "Check this path": the probe from this browser, emission against arrival per event. The same rules as
// npm run doctor (scripts/doctor/classify.ts): two events "arrived together" when the gap between their
// arrivals is under a quarter of the gap between their emissions; one hiccup is noise, not a buffer.
const PROBE = { events: 12, intervalMs: 150 } as const;
const SVG = "http://www.w3.org/2000/svg";
const CHART = { left: 36, top: 10, width: 270, height: 170 } as const;
const CHART_TITLE = "When each probe event arrived, against when the gateway sent it";

/** One probe event: when the gateway sent it and when it arrived here, both relative to the first. */
interface Point {
  readonly seq: number;
  readonly emittedMs: number;
  readonly arrivedMs: number;
}

interface Verdict {
  readonly kind: string;
  readonly text: string;
}

function svg(name: string, attrs: Readonly<Record<string, string | number>>, text?: string): SVGElement {
  const el = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

function drawChart(chart: SVGElement, points: readonly Point[], spanMs: number): void {
  const max = Math.max(spanMs, ...points.map((p) => p.arrivedMs), 1);
  const x = (ms: number): number => CHART.left + (ms / max) * CHART.width;
  const y = (ms: number): number => CHART.top + CHART.height - (ms / max) * CHART.height;
  const bottom = CHART.top + CHART.height;
  const middle = CHART.top + CHART.height / 2;
  chart.replaceChildren(
    svg("title", {}, CHART_TITLE),
    svg("line", { class: "axis", x1: CHART.left, y1: bottom, x2: CHART.left + CHART.width, y2: bottom }),
    svg("line", { class: "axis", x1: CHART.left, y1: CHART.top, x2: CHART.left, y2: bottom }),
    svg("line", { class: "ideal", x1: x(0), y1: y(0), x2: x(max), y2: y(max) }),
    svg(
      "text",
      { x: CHART.left + CHART.width / 2, y: bottom + 28, "text-anchor": "middle" },
      "sent by the gateway (ms after the first event)",
    ),
    svg(
      "text",
      { x: 10, y: middle, transform: `rotate(-90 10 ${middle})`, "text-anchor": "middle" },
      "arrived here (ms)",
    ),
    svg("text", { x: x(max), y: bottom + 12, "text-anchor": "end" }, String(Math.round(max))),
    svg("text", { x: CHART.left - 4, y: y(max) + 4, "text-anchor": "end" }, String(Math.round(max))),
    ...points.map((p) => {
      const dot = svg("circle", { class: "point", cx: x(p.emittedMs), cy: y(p.arrivedMs), r: 3.5 });
      dot.dataset.seq = String(p.seq);
      dot.dataset.emitted = String(Math.round(p.emittedMs));
      dot.dataset.arrived = String(Math.round(p.arrivedMs));
      const emitted = Math.round(p.emittedMs);
      const arrived = Math.round(p.arrivedMs);
      dot.append(svg("title", {}, `event ${p.seq}: sent +${emitted} ms, arrived +${arrived} ms`));
      return dot;
    }),
  );
}

function judge(points: readonly Point[], done: boolean, encoding: string): Verdict {
  if (points.length === 0) return { kind: "error", text: "No probe event arrived." };
  const together = points.slice(1).filter((p, i) => {
    const before = points[i];
    if (before === undefined) return false;
    const emitted = p.emittedMs - before.emittedMs;
    return emitted > 0 && p.arrivedMs - before.arrivedMs < emitted * 0.25;
  }).length;
  const problems: Verdict[] = [];
  if (!done) problems.push({ kind: "cut", text: `cut after ${points.length} of ${PROBE.events} events` });
  if (points.length >= 3 && together === points.length - 1)
    problems.push({ kind: "buffered", text: "fully buffered: every event arrived at once" });
  else if (together >= Math.max(2, Math.ceil((points.length - 1) * 0.2)))
    problems.push({ kind: "coalescing", text: "coalescing: events arrived in bursts" });
  if (encoding !== "") problems.push({ kind: "compressed", text: `compressed (${encoding})` });
  const first = problems[0];
  if (first === undefined)
    return { kind: "streaming", text: `Streaming: all ${points.length} events arrived one by one.` };
  return { kind: first.kind, text: `${problems.map((p) => p.text).join("; ")}. See docs/proxies.md.` };
}

/** The probe's stamp on a chunk, if it carries one. */
function stampOf(data: string): { readonly seq: number; readonly sentAt: number } | undefined {
  let chunk: unknown;
  try {
    chunk = JSON.parse(data);
  } catch {
    return undefined;
  }
  if (typeof chunk !== "object" || chunk === null || !("probe" in chunk)) return undefined;
  const stamp: unknown = chunk.probe;
  if (typeof stamp !== "object" || stamp === null || !("seq" in stamp) || !("sentAt" in stamp))
    return undefined;
  const { seq, sentAt } = stamp;
  return typeof seq === "number" && typeof sentAt === "number" ? { seq, sentAt } : undefined;
}

async function checkPath(button: HTMLButtonElement, verdict: HTMLElement, chart: SVGElement): Promise<void> {
  button.disabled = true;
  delete document.body.dataset.probeVerdict;
  verdict.classList.remove("bad");
  verdict.textContent = "Checking…";
  const points: Point[] = [];
  let first: { readonly sentAt: number; readonly at: number } | undefined;
  let done = false;
  let encoding = "";
  let failure: string | undefined;
  const spanMs = (PROBE.events - 1) * PROBE.intervalMs;
  drawChart(chart, points, spanMs);
  try {
    const res = await fetch("/v1/chat/completions", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: "demo/probe",
        stream: true,
        messages: [{ role: "user", content: "probe" }],
        probe: PROBE,
      }),
    });
    const type = res.headers.get("content-type") ?? "";
    if (!res.ok || !type.startsWith("text/event-stream") || res.body === null) {
      throw new Error(`the gateway answered HTTP ${res.status} ${type}`);
    }
    encoding = res.headers.get("content-encoding") ?? "";
    const reader = res.body.getReader();
    const sse = new SseReader();
    for (;;) {
      const { done: ended, value } = await reader.read();
      if (ended) break;
      const at = performance.now();
      for (const message of sse.push(value)) {
        if (message.data === "[DONE]") {
          done = true;
          continue;
        }
        const stamp = stampOf(message.data);
        if (stamp === undefined) continue;
        first ??= { sentAt: stamp.sentAt, at };
        points.push({ seq: stamp.seq, emittedMs: stamp.sentAt - first.sentAt, arrivedMs: at - first.at });
      }
      drawChart(chart, points, spanMs);
    }
  } catch (err) {
    // A connection that broke mid-stream still has its points: that is a cut, judged below.
    failure = err instanceof Error ? err.message : String(err);
    done = false;
  }
  const result =
    failure !== undefined && points.length === 0
      ? { kind: "error", text: `Could not check: ${failure}` }
      : judge(points, done, encoding);
  verdict.textContent = result.text;
  verdict.classList.toggle("bad", result.kind !== "streaming");
  document.body.dataset.probeVerdict = result.kind;
  document.body.dataset.probePoints = String(points.length);
  button.disabled = false;
}

/** Wires the "Check this path" panel. */
export function setUpProbePanel(): void {
  const button = byId("probe-run", HTMLButtonElement);
  const verdict = byId("probe-verdict", HTMLElement);
  const chart = document.getElementById("probe-chart");
  if (!(chart instanceof SVGElement)) throw new Error("the demo page has no #probe-chart");
  button.addEventListener("click", () => void checkPath(button, verdict, chart));
}
