import { describe, expect, it } from "vitest";
import { delayBefore, probeStream, type Sleep } from "../../../../src/upstream/demo/probe.ts";
import {
  PROBE_DEFAULTS,
  PROBE_TOKEN,
  type ProbeParams,
  parseProbeParams,
} from "../../../../src/upstream/demo/probe-params.ts";
import { DEMO_MODELS } from "../../../../src/upstream/demo/script.ts";
import { demoTransport } from "../../../../src/upstream/demo/transport.ts";

const BASE = { id: "chatcmpl-test", object: "chat.completion.chunk", created: 1, model: "probe" } as const;

interface Chunk {
  readonly choices: readonly { delta?: { content?: string; role?: string }; finish_reason: string | null }[];
  readonly probe?: { seq: number; sentAt: number; padding?: string };
  readonly usage?: { completion_tokens: number };
}

/** The data lines of an SSE body, in order. */
async function dataLines(body: ReadableStream<Uint8Array> | null): Promise<string[]> {
  const text = await new Response(body).text();
  return text
    .split("\n\n")
    .filter((block) => block.startsWith("data: "))
    .map((block) => block.slice("data: ".length));
}

function chunks(lines: readonly string[]): Chunk[] {
  return lines.filter((l) => l !== "[DONE]").map((l) => JSON.parse(l) as Chunk);
}

/** A sleep on a virtual clock: records each wait and advances time by it, instantly. */
function virtualClock(): { sleep: Sleep; now: () => number; waits: number[] } {
  let t = 1_000_000;
  const waits: number[] = [];
  return {
    waits,
    now: () => t,
    sleep: async (ms) => {
      waits.push(ms);
      t += ms;
    },
  };
}

function params(over: Partial<ProbeParams>): ProbeParams {
  return { ...PROBE_DEFAULTS, ...over };
}

function post(body: unknown, signal?: AbortSignal): Promise<Response> {
  return demoTransport({ firstTokenMs: 0, intervalMs: 0 }).fetch("https://demo.invalid/v1/chat/completions", {
    method: "POST",
    headers: new Headers({ "content-type": "application/json" }),
    body: JSON.stringify(body),
    ...(signal === undefined ? {} : { signal }),
  });
}

describe("the probe's parameters", () => {
  it("defaults to 20 events 100 ms apart with no pause when the request has no probe object", () => {
    expect(parseProbeParams({})).toEqual({ ok: true, params: PROBE_DEFAULTS });
  });

  it("puts a pause without a position in the middle of the stream", () => {
    const r = parseProbeParams({ probe: { events: 10, pauseMs: 5000 } });
    expect(r).toEqual({
      ok: true,
      params: { ...PROBE_DEFAULTS, events: 10, pauseMs: 5000, pauseAtEvent: 6 },
    });
  });

  it.each([
    [{ probe: "fast" }, "probe", '"probe" must be an object'],
    [{ probe: { events: 0 } }, "probe.events", '"probe.events" must be an integer between 1 and 1000'],
    [{ probe: { events: 2.5 } }, "probe.events", "between 1 and 1000"],
    [{ probe: { intervalMs: -1 } }, "probe.intervalMs", '"probe.intervalMs" must be an integer between 0'],
    [{ probe: { payloadBytes: 70_000 } }, "probe.payloadBytes", "between 0 and 65536"],
    [{ probe: { pauseMs: "10s" } }, "probe.pauseMs", "between 0 and 600000"],
    [{ probe: { events: 4, pauseMs: 10, pauseAtEvent: 5 } }, "probe.pauseAtEvent", "between 1 and 4"],
    [{ probe: { events: 1000, intervalMs: 10_000 } }, "probe.intervalMs", "at most 600000 ms"],
    [{ probe: { event: 3 } }, "probe.event", '"probe.event" is not a probe parameter; use events,'],
  ])("refuses %j naming %s", (body, field, message) => {
    const r = parseProbeParams(body);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.field).toBe(field);
    expect(r.message).toContain(message);
  });
});

describe("the probe stream", () => {
  it("sends each event after its interval, the pause before the chosen event, then finish and [DONE]", async () => {
    const clock = virtualClock();
    const p = params({ events: 5, intervalMs: 40, pauseAtEvent: 4, pauseMs: 3000 });
    const lines = await dataLines(
      probeStream({ base: BASE, params: p, usage: undefined, signal: undefined, ...clock }),
    );
    expect(clock.waits).toEqual([0, 40, 40, 3000, 40]);
    expect(lines.at(-1)).toBe("[DONE]");
    const all = chunks(lines);
    const stamped = all.filter((c) => c.probe !== undefined);
    expect(stamped.map((c) => c.probe?.seq)).toEqual([1, 2, 3, 4, 5]);
    // sentAt is the clock when each event was enqueued: the cadence can be read back from the stamps.
    const sent = stamped.map((c) => (c.probe?.sentAt ?? 0) - 1_000_000);
    expect(sent).toEqual([0, 40, 80, 3080, 3120]);
    expect(all.at(-1)?.choices[0]?.finish_reason).toBe("stop");
    expect(delayBefore(p, 1)).toBe(0);
  });

  it("carries only a short digit-free word as text, and the stamp outside the message", async () => {
    const clock = virtualClock();
    const p = params({ events: 3, intervalMs: 1, payloadBytes: 300 });
    const all = chunks(
      await dataLines(probeStream({ base: BASE, params: p, usage: undefined, signal: undefined, ...clock })),
    );
    const stamped = all.filter((c) => c.probe !== undefined);
    expect(stamped[0]?.choices[0]?.delta).toEqual({ role: "assistant", content: PROBE_TOKEN });
    for (const c of stamped) {
      expect(c.choices[0]?.delta?.content).toBe(PROBE_TOKEN);
      expect(c.probe?.padding).toMatch(/^[a-z]{300}$/);
    }
    // Varied letters, so a compressing proxy cannot shrink the padding to nothing.
    expect(new Set(stamped[0]?.probe?.padding).size).toBeGreaterThan(20);
    expect(PROBE_TOKEN).not.toMatch(/\d/);
  });

  it("adds the usage chunk after the finish chunk when asked", async () => {
    const clock = virtualClock();
    const usage = { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 };
    const all = chunks(
      await dataLines(
        probeStream({ base: BASE, params: params({ events: 2 }), usage, signal: undefined, ...clock }),
      ),
    );
    expect(all.at(-1)?.usage).toEqual(usage);
    expect(all.at(-2)?.choices[0]?.finish_reason).toBe("stop");
  });

  it("stops sending when the request is aborted, without a finish chunk", async () => {
    const controller = new AbortController();
    let sent = 0;
    const sleep: Sleep = async () => {
      sent++;
      if (sent === 3) controller.abort();
    };
    const lines = await Promise.race([
      dataLines(
        probeStream({
          base: BASE,
          params: params({ events: 10 }),
          usage: undefined,
          signal: controller.signal,
          sleep,
        }),
      ),
      new Promise<string[]>((resolve) => setTimeout(() => resolve(["still open"]), 200)),
    ]);
    // The stream is left open (nobody reads it any more), and nothing after the abort was enqueued.
    expect(lines).toEqual(["still open"]);
    expect(sent).toBe(3);
  });
});

describe("the demo provider's probe model", () => {
  it("is listed among the demo models", () => {
    expect(Object.keys(DEMO_MODELS)).toContain("probe");
  });

  it("streams the requested number of stamped events at the requested cadence", async () => {
    const t0 = Date.now();
    const res = await post({
      model: "probe",
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: "user", content: "hi" }],
      probe: { events: 4, intervalMs: 30 },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    const lines = await dataLines(res.body);
    const all = chunks(lines);
    const stamps = all.flatMap((c) => (c.probe === undefined ? [] : [c.probe]));
    expect(stamps.map((s) => s.seq)).toEqual([1, 2, 3, 4]);
    const first = stamps[0]?.sentAt ?? 0;
    expect(first - t0).toBeLessThan(200);
    expect((stamps[3]?.sentAt ?? 0) - first).toBeGreaterThanOrEqual(85);
    expect(all.at(-1)?.usage?.completion_tokens).toBe(4);
    expect(lines.at(-1)).toBe("[DONE]");
  });

  it("answers a bad parameter with a 400 in OpenAI's shape naming the field", async () => {
    const res = await post({ model: "probe", stream: true, messages: [], probe: { intervalMs: 99_999 } });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { message: string; code: string } };
    expect(body.error.code).toBe("invalid_request");
    expect(body.error.message).toBe('"probe.intervalMs" must be an integer between 0 and 10000');
  });

  it("answers without streaming with the ticks in one message", async () => {
    const res = await post({ model: "probe", messages: [{ role: "user", content: "hi" }] });
    const body = (await res.json()) as { choices: { message: { content: string } }[] };
    expect(body.choices[0]?.message.content).toBe(PROBE_TOKEN.repeat(PROBE_DEFAULTS.events));
  });

  it("stops the probe when the caller aborts, even in a long pause", async () => {
    const controller = new AbortController();
    const res = await post(
      { model: "probe", stream: true, messages: [], probe: { events: 3, pauseMs: 60_000, pauseAtEvent: 2 } },
      controller.signal,
    );
    const reader = res.body?.getReader();
    const first = await reader?.read();
    expect(new TextDecoder().decode(first?.value)).toContain('"seq":1');
    const t0 = performance.now();
    controller.abort();
    // Nothing more is sent: the next read waits forever, so race it against a short timer.
    const next = await Promise.race([
      reader?.read().then(() => "data"),
      new Promise<string>((resolve) => setTimeout(() => resolve("quiet"), 100)),
    ]);
    expect(next).toBe("quiet");
    expect(performance.now() - t0).toBeLessThan(1000);
    await reader?.cancel();
  });
});
