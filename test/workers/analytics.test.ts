import { abortAllDurableObjects, env, runInDurableObject, SELF } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { BLOB, DOUBLE } from "../../src/analytics/data-point.ts";
import { streamStub } from "../../src/resumable/stream-stub.ts";
import { STREAM_OBJECT } from "../../src/resumable/wire.ts";
import { until } from "../support/until.ts";

const GATEWAY = "https://gateway.test";

interface MetricsLine {
  event: string;
  model: string;
  outcome: string;
  route: string;
  provider: string;
  guardrail: string;
  upstreamTtftMs: number;
  gatewayTtftMs: number;
  durationMs: number;
  bytesSent: number;
}

/** The structured log is the local stand-in for Analytics Engine: one `stream_metrics` line per point. */
let lines: MetricsLine[] = [];
let points: AnalyticsEngineDataPoint[] = [];

beforeEach(() => {
  lines = [];
  points = [];
  vi.spyOn(console, "log").mockImplementation((arg: unknown) => {
    // Every structured log is one JSON line (a string), never an object.
    if (typeof arg !== "string" || !arg.startsWith("{")) return;
    const parsed = JSON.parse(arg) as { event?: unknown };
    if (parsed.event === "stream_metrics") lines.push(parsed as MetricsLine);
  });
  if (env.TTFT !== undefined) {
    vi.spyOn(env.TTFT, "writeDataPoint").mockImplementation((p) => {
      if (p !== undefined) points.push(p);
    });
  }
});

afterEach(() => {
  vi.restoreAllMocks();
});

function start(model: string, headers: Record<string, string> = {}): Promise<Response> {
  return SELF.fetch(`${GATEWAY}/openai/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ model, stream: true, messages: [{ role: "user", content: "x" }] }),
  });
}

/**
 * How long a second data point is given to show up. A duplicate is the absence of an event, which no
 * test can await: this bounded wait is the one left on purpose. It cannot make a test flaky (a
 * correct gateway writes nothing more, however long one waits); it only bounds how late after the
 * first point a duplicate is still caught.
 */
const NO_SECOND_POINT_MS = 150;

/** Waits for this model's data point, then makes sure no second one follows. */
async function exactlyOne(model: string): Promise<MetricsLine> {
  const mine = () => lines.filter((l) => l.model === `openai/${model}`);
  const line = await until(`the data point of ${model}`, () => mine()[0]);
  await new Promise((r) => setTimeout(r, NO_SECOND_POINT_MS));
  expect(mine()).toHaveLength(1);
  return line;
}

/** The object that holds stream `id` (its stream host). */
function stub(id: string): DurableObjectStub {
  if (env.STREAMS === undefined) throw new Error("STREAMS is not bound");
  return streamStub(env.STREAMS, id);
}

/** The stream's state as its status reports it. */
async function stateOf(id: string): Promise<unknown> {
  const res = await SELF.fetch(`${GATEWAY}/v1/streams/${id}/status`);
  return ((await res.json()) as { state?: unknown }).state;
}

/** The scripted upstream's log (test/workers/support/outbound.ts): models whose request was cancelled. */
async function cancelledUpstreams(): Promise<string[]> {
  const res = await fetch("https://upstream.test/__log");
  return ((await res.json()) as { cancelled: string[] }).cancelled;
}

describe("one data point per stream, whichever way it ends", () => {
  // First, because abortAllDurableObjects() restarts every object of the runtime, not only this test's:
  // here no other test's object exists yet. Waiting cannot stand in for that order: after a DELETE the
  // stream's object stays busy (measured: evictDurableObject still pending 5 s after the cancel, while
  // an object whose stream completed, was cut or was blocked is evicted at once), so restarting it
  // later makes workerd log an exception for an object this test does not own.
  it("lost (the object restarted mid-stream)", async () => {
    const res = await start("hang:2:lost");
    const id = res.headers.get("x-stream-id") ?? "";
    const reader = res.body?.getReader();
    await reader?.read();
    // Both tokens stored (by the batch flush after the first): the restart then cuts a stream with a stored prefix.
    await until("the 2 tokens to be stored", () =>
      runInDurableObject(
        stub(id),
        (_o, state) =>
          (state.storage.sql
            .exec<{ n: number }>("SELECT event_count AS n FROM stream WHERE stream_id = ?", id)
            .toArray()[0]?.n ?? 0) >= 2,
      ),
    );
    await abortAllDurableObjects();
    await (await SELF.fetch(`${GATEWAY}/v1/streams/${id}`)).text();
    expect((await exactlyOne("hang:2:lost")).outcome).toBe("lost");
  });

  it("complete", async () => {
    await (await start("burst:3:complete")).text();
    const line = await exactlyOne("burst:3:complete");
    expect(line).toMatchObject({
      outcome: "complete",
      provider: "openai",
      route: "native/openai-chat",
      guardrail: "none",
    });
    expect(line.bytesSent).toBeGreaterThan(0);
  });

  it("interrupted (the upstream ended without [DONE])", async () => {
    await (await start("cut:2:interrupted")).text();
    expect((await exactlyOne("cut:2:interrupted")).outcome).toBe("interrupted");
  });

  it("blocked (by the guardrail), with the rule as the verdict", async () => {
    await (await start("text:hello forbidden-word there")).text();
    const line = await exactlyOne("text:hello forbidden-word there");
    expect(line).toMatchObject({ outcome: "blocked", guardrail: "block:deny_terms" });
  });

  it("cancelled (DELETE), although the client had left", async () => {
    const res = await start("slow:1000:20:cancelled");
    const id = res.headers.get("x-stream-id") ?? "";
    await res.body?.cancel();
    await SELF.fetch(`${GATEWAY}/v1/streams/${id}`, { method: "DELETE" });
    expect((await exactlyOne("slow:1000:20:cancelled")).outcome).toBe("cancelled");
    // The test ends only once the cancel is over on both sides (the stream says so, and the upstream
    // saw its request closed), so no later test runs beside a generation still winding down.
    await until("the cancelled stream's object to finish", async () => (await stateOf(id)) === "cancelled");
    await until("the upstream to see its request cancelled", async () =>
      (await cancelledUpstreams()).includes("slow:1000:20:cancelled"),
    );
  });

  it("complete, on a plain (non-resumable) stream too", async () => {
    await (await start("burst:2:direct", { "x-resumable": "false" })).text();
    expect((await exactlyOne("burst:2:direct")).outcome).toBe("complete");
  });
});

describe("timings", () => {
  it("measures a 300 ms first-token delay upstream as an upstream TTFT of about 300 ms", async () => {
    const res = await start("delay:300:ttft");
    expect(res.headers.get("server-timing")).toMatch(
      /^gateway;dur=\d+(?:\.\d)?;desc="[^"]*", upstream-connect;dur=\d+/,
    );
    const text = await res.text();
    const line = await exactlyOne("delay:300:ttft");
    expect(line.upstreamTtftMs).toBeGreaterThanOrEqual(290);
    expect(line.upstreamTtftMs).toBeLessThan(600);
    expect(line.gatewayTtftMs).toBeGreaterThanOrEqual(line.upstreamTtftMs);
    // The client's own copy: the final SSE comment carries the same measurement.
    const timings = JSON.parse(/: timings (\{.*\})\n/.exec(text)?.[1] ?? "{}") as { upstreamTtftMs: number };
    expect(timings.upstreamTtftMs).toBeGreaterThanOrEqual(290);
  });

  it("writes the Analytics Engine point with each field at its documented position", async () => {
    await (await start("burst:4:positions")).text();
    const line = await exactlyOne("burst:4:positions");
    const point = points.find((p) => p.indexes?.[0] === "openai/burst:4:positions");
    expect(point).toBeDefined();
    expect(point?.blobs?.[BLOB.outcome - 1]).toBe("complete");
    expect(point?.blobs?.[BLOB.model - 1]).toBe("openai/burst:4:positions");
    expect(point?.blobs?.[BLOB.provider - 1]).toBe("openai");
    expect(point?.doubles?.[DOUBLE.bytesSent - 1]).toBe(line.bytesSent);
    expect(point?.doubles?.[DOUBLE.durationMs - 1]).toBe(line.durationMs);
  });

  it("records the request's colo and country (request.cf), read at the stream's end when it runs directly", async () => {
    const cf = { colo: "FRA", country: "DE" };
    for (const [model, headers] of [
      ["burst:2:where-resumable", {}],
      ["burst:2:where-direct", { "x-resumable": "false" }],
    ] as const) {
      const res = await SELF.fetch(`${GATEWAY}/openai/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify({ model, stream: true, messages: [{ role: "user", content: "x" }] }),
        cf,
      });
      await res.text();
      await exactlyOne(model);
      const point = points.find((p) => p.indexes?.[0] === `openai/${model}`);
      expect(point?.blobs?.[BLOB.colo - 1]).toBe("FRA");
      expect(point?.blobs?.[BLOB.country - 1]).toBe("DE");
      // A resumable stream's host is named by that colo (its object lives near that colo's callers).
      if (!("x-resumable" in headers)) expect(res.headers.get("x-stream-id") ?? "").toMatch(/^fra-\d{1,4}\./);
    }
  });

  it("keeps the location while a worker and its stream objects run different versions (a deploy)", async () => {
    const streams = env.STREAMS;
    if (streams === undefined) throw new Error("STREAMS is not bound");
    const get = streams.get.bind(streams);
    const sent: Record<string, unknown>[] = [];
    // Between the worker and the object: what the worker sent is kept, and the object gets the plan as a
    // worker from before `where` sent it (the colo and country as the plan's own fields).
    vi.spyOn(streams, "get").mockImplementation((id) => {
      const stub = get(id);
      const fetch = (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
        if (!String(input).endsWith(STREAM_OBJECT.start) || typeof init?.body !== "string")
          return stub.fetch(input, init);
        const spec = JSON.parse(init.body) as { plan: Record<string, unknown> };
        sent.push({ ...spec.plan });
        delete spec.plan.where;
        return stub.fetch(input, { ...init, body: JSON.stringify(spec) });
      };
      return { id: stub.id, name: stub.name, fetch } as unknown as DurableObjectStub;
    });
    const model = "burst:2:where-older-worker";
    const res = await SELF.fetch(`${GATEWAY}/openai/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model, stream: true, messages: [{ role: "user", content: "x" }] }),
      cf: { colo: "NRT", country: "JP" },
    });
    await res.text();
    await exactlyOne(model);
    // An object from before `where` reads the plan's own fields: they are sent beside it.
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ where: { colo: "NRT", country: "JP" }, colo: "NRT", country: "JP" });
    // And this object, given only the old form, still records where the request came from.
    const point = points.find((p) => p.indexes?.[0] === `openai/${model}`);
    expect(point?.blobs?.[BLOB.colo - 1]).toBe("NRT");
    expect(point?.blobs?.[BLOB.country - 1]).toBe("JP");
  });

  it("retries inside the stream's object when the client left before the answer: the fallback is stored whole", async () => {
    const gone = new AbortController();
    const started = SELF.fetch(`${GATEWAY}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        models: ["openai/status-503", "local/slow:3:20:left-before"],
        stream: true,
        messages: [{ role: "user", content: "x" }],
      }),
      signal: gone.signal,
    });
    // Gone once the first attempt has failed (the upstream answered it at once) and before the answer.
    setTimeout(() => gone.abort(), 5);
    // The client really left before any answer (the first token comes 20 ms after the fallback starts).
    expect(
      await started.then(
        () => "answered",
        () => "left",
      ),
    ).toBe("left");
    // Nobody reads this answer: the object still made both attempts and generated it to its end.
    const line = await until("the data point of the answer nobody waited for", () =>
      lines.find((l) => (l as MetricsLine & { target?: string }).target === "local/slow:3:20:left-before"),
    );
    expect(line).toMatchObject({ outcome: "complete", attempts: 2, route: "unified/openai-chat" });
    expect(line.bytesSent).toBeGreaterThan(0);
  });

  it("counts the events skipped on the unified endpoint because they were not JSON, and none on a native route", async () => {
    const unified = await SELF.fetch(`${GATEWAY}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-resumable": "false" },
      body: JSON.stringify({
        model: "openai/garbled:3",
        stream: true,
        messages: [{ role: "user", content: "x" }],
      }),
    });
    const text = await unified.text();
    expect(text).not.toContain("<html>");
    const line = (await exactlyOne("garbled:3")) as MetricsLine & { malformedEvents: number };
    expect(line).toMatchObject({ outcome: "complete", malformedEvents: 1 });
    const point = points.find((p) => p.indexes?.[0] === "openai/garbled:3");
    expect(point?.doubles?.[DOUBLE.malformedEvents - 1]).toBe(1);
    lines = [];
    const native = await (await start("garbled:3", { "x-resumable": "false" })).text();
    expect(native).toContain("data: <html>rewritten</html>");
    expect(
      ((await exactlyOne("garbled:3")) as MetricsLine & { malformedEvents: number }).malformedEvents,
    ).toBe(0);
  });
});
