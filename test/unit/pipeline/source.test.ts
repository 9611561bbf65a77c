import { describe, expect, it } from "vitest";
import { GuardrailStep } from "../../../src/guardrail/stage.ts";
import { bodySource } from "../../../src/pipeline/body-source.ts";
import { buildPipeline, driveItems } from "../../../src/pipeline/build.ts";
import { StreamState } from "../../../src/pipeline/stream-state.ts";
import { SseDecoder } from "../../../src/sse/decoder.ts";
import type { SseEvent } from "../../../src/sse/types.ts";
import type { FormatName, WireFormat } from "../../../src/upstream/format.ts";
import { FORMATS } from "../../../src/upstream/registry.ts";
import { readFixture, splitAt } from "../../support/fixtures.ts";
import { config } from "../guardrail/support.ts";

const encoder = new TextEncoder();

/** An upstream body that sends `chunks`, then ends as told; records whether the gateway cancelled it. */
function upstream(chunks: readonly (string | Uint8Array)[], then: "close" | "hang" | "fail") {
  const seen = { cancelled: false };
  let next = 0;
  const body = new ReadableStream<Uint8Array>(
    {
      // One chunk per read, so a failure comes after every chunk was read (an error drops queued chunks).
      pull(controller) {
        const c = chunks[next++];
        if (c !== undefined) controller.enqueue(typeof c === "string" ? encoder.encode(c) : c);
        else if (then === "close") controller.close();
        else if (then === "fail") controller.error(new TypeError("Network connection lost."));
        // "hang": an upstream that neither sends nor hangs up, like one holding its connection open.
        else return new Promise<void>(() => {});
      },
      cancel() {
        seen.cancelled = true;
      },
    },
    { highWaterMark: 0 },
  );
  return { body, seen };
}

/** Reads a byte stream to its end, failing if it has not closed within `ms` (a hung answer). */
async function readAll(stream: ReadableStream<Uint8Array>, ms = 2000): Promise<string> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the stream did not close within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([new Response(stream).text(), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** The client's SSE events (comments and the timings trailer left out). */
function eventsOf(text: string): SseEvent[] {
  const d = new SseDecoder();
  return [...d.push(text), ...d.end()].filter((e) => e.hasData || e.event !== undefined);
}

/** MAX_EVENT_BYTES's default (src/config.ts); the limit itself is tested in event-size.test.ts. */
const maxEventBytes = 8 * 1024 * 1024;

function direct(format: WireFormat, body: ReadableStream<Uint8Array>, guard?: unknown) {
  const state = new StreamState();
  const aborted: string[] = [];
  const abortUpstream = (reason: string) => aborted.push(reason);
  const steps = guard === undefined ? [] : [new GuardrailStep(config(guard), format, state, abortUpstream)];
  const out = buildPipeline({ body: bodySource(body), format, state, abortUpstream, steps, maxEventBytes });
  return { out, state, aborted };
}

const chat = FORMATS["openai-chat"];
const chunk = (content: string) =>
  `data: {"choices":[{"index":0,"delta":{"content":${JSON.stringify(content)}}}]}\n\n`;

describe("the answer ends at its end marker, whether or not the upstream hangs up", () => {
  const cases: { format: FormatName; events: string[] }[] = [
    { format: "openai-chat", events: [chunk("Hi"), "data: [DONE]\n\n"] },
    {
      format: "anthropic",
      events: [
        'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}\n\n',
        'event: message_stop\ndata: {"type":"message_stop"}\n\n',
      ],
    },
    {
      format: "openai-responses",
      events: [
        'event: response.output_text.delta\ndata: {"type":"response.output_text.delta","output_index":0,"content_index":0,"delta":"Hi"}\n\n',
        'event: response.completed\ndata: {"type":"response.completed","response":{"status":"completed"}}\n\n',
      ],
    },
    { format: "workers-ai", events: ['data: {"response":"Hi"}\n\n', "data: [DONE]\n\n"] },
  ];
  for (const c of cases) {
    it(`closes a ${c.format} answer right after its end marker and releases the upstream`, async () => {
      const up = upstream(c.events, "hang");
      const { out, state } = direct(FORMATS[c.format], up.body);
      const text = await readAll(out);
      expect(text.startsWith(c.events.join(""))).toBe(true);
      // Only the timings comment follows the end marker.
      expect(text.slice(c.events.join("").length)).toMatch(/^: timings [^\n]*\n\n$/);
      expect(up.seen.cancelled).toBe(true);
      expect(state.outcome).toBe("complete");
    });
  }

  it("drops whatever the upstream sends after the end marker in the same read", async () => {
    const up = upstream([`${chunk("Hi")}data: [DONE]\n\n${chunk("late")}`], "hang");
    const text = await readAll(direct(chat, up.body).out);
    expect(text).not.toContain("late");
  });

  it("keeps reading a Gemini stream after a finish reason, which Vertex repeats on every chunk", async () => {
    const gemini = readFixture("gemini/stream-utf8-chinese.sse");
    const up = upstream([gemini], "close");
    const { out, state } = direct(FORMATS.gemini, up.body);
    const text = await readAll(out);
    expect(text.startsWith(new TextDecoder().decode(gemini))).toBe(true);
    expect(state.outcome).toBe("complete");
  });
});

describe("a block ends the answer without waiting for the upstream", () => {
  const rules = { builtins: { payment_card: "block" } };
  const card = "4242 4242 4242 4242";

  it("closes the client's response, aborts the upstream and decides `blocked` when the upstream never hangs up", async () => {
    const up = upstream([chunk("My card is "), chunk(card), chunk(" and more")], "hang");
    const { out, state, aborted } = direct(chat, up.body, rules);
    const text = await readAll(out);
    const events = eventsOf(text);
    // The answer's text, read by the format's own adapter, not the raw stream: the ending chunk's
    // `created` (Unix seconds) may hold the digits.
    const answer = events
      .flatMap((e) => chat.inspect(e).parts)
      .filter((p) => p.channel === "c0/content")
      .map((p) => p.text)
      .join("");
    expect(answer).toBe("My card is ");
    expect(events.at(-1)?.data).toBe("[DONE]");
    expect(JSON.parse(events.at(-2)?.data ?? "")).toMatchObject({
      choices: [{ finish_reason: "content_filter" }],
    });
    expect(aborted).toEqual(["guardrail:payment_card"]);
    expect(up.seen.cancelled).toBe(true);
    expect(state.outcome).toBe("blocked");
    expect(state.endDetail()).toMatch(/^guardrail_blocked: .*"payment_card"/);
  });

  it("ends a stored answer's driven pipeline the same way", async () => {
    const up = upstream([chunk(card), chunk(" is mine")], "hang");
    const state = new StreamState();
    const steps = [new GuardrailStep(config(rules), chat, state, () => {})];
    const raws: string[] = [];
    const driven = driveItems(
      { body: bodySource(up.body), format: chat, state, abortUpstream: () => {}, steps, maxEventBytes },
      (item) => raws.push(item.ev.raw),
    );
    const ended = await Promise.race([
      driven.done.then(() => "ended" as const),
      new Promise<"timeout">((r) => setTimeout(() => r("timeout"), 2000)),
    ]);
    if (ended === "timeout") throw new Error("the driven pipeline did not end");
    expect(raws.at(-1)).toBe("data: [DONE]\n\n");
    expect(state.upstreamOutcome()).toBe("blocked");
  });
});

describe("an event cut off is never forwarded as a broken event", () => {
  // Native formats and a recorded stream of each: cut at every byte, the connection then fails.
  const fixtures: { format: FormatName; name: string }[] = [
    { format: "openai-chat", name: "openai/chat-text-include-usage.sse" },
    { format: "anthropic", name: "anthropic/messages-text-ping-minimal.sse" },
    { format: "openai-responses", name: "openai/responses-text-and-function-call.sse" },
    { format: "gemini", name: "gemini/stream-thinking-function-call-signature.sse" },
  ];
  for (const f of fixtures) {
    it(`${f.name}: a failed read at any byte forwards only whole events, then the explicit error`, async () => {
      const bytes = readFixture(f.name);
      // Byte offsets where the fixture's events end: a cut's outcome depends only on the event it falls
      // in, so each run starts one whole event before it (the whole stream would make this quadratic).
      const ends = [0];
      for (const ev of eventsOf(new TextDecoder().decode(bytes)))
        ends.push((ends.at(-1) ?? 0) + encoder.encode(ev.raw).byteLength);
      for (let cut = 1; cut < bytes.length; cut++) {
        const within = ends.findLastIndex((e) => e < cut);
        const from = ends[Math.max(0, within - 1)] ?? 0;
        const sent = bytes.subarray(from, cut);
        const up = upstream(splitAt(sent, [Math.floor(sent.length / 2)]), "fail");
        const { out, state } = direct(FORMATS[f.format], up.body);
        const events = eventsOf(await readAll(out));
        // The client gets exactly the events the upstream ended with their blank line, then the error.
        const whole = eventsOf(new TextDecoder().decode(sent)).filter((e) => e.terminated);
        expect(
          events.slice(0, -1).map((e) => e.raw),
          `cut at ${cut}`,
        ).toEqual(whole.map((e) => e.raw));
        expect(events.at(-1)?.data, `cut at ${cut}`).toContain("the upstream connection failed");
        expect(state.outcome, `cut at ${cut}`).toBe("interrupted");
        expect(state.endDetail(), `cut at ${cut}`).toMatch(
          /^upstream_interrupted: the upstream connection failed/,
        );
      }
    }, 30_000);
  }

  for (const f of fixtures.filter((x) => x.format === "anthropic" || x.format === "gemini")) {
    it(`${f.name}: a clean end at any byte forwards no event an SDK could choke on`, async () => {
      const bytes = readFixture(f.name);
      for (let cut = 1; cut < bytes.length; cut++) {
        const up = upstream([bytes.subarray(0, cut)], "close");
        const { out, state } = direct(FORMATS[f.format], up.body);
        for (const ev of eventsOf(await readAll(out))) {
          // Every event has data, and its data parses: no fragment, no named event without data.
          expect(() => JSON.parse(ev.data), `cut at ${cut}: ${ev.raw}`).not.toThrow();
        }
        expect(["complete", "interrupted"], `cut at ${cut}`).toContain(state.outcome);
      }
    }, 30_000);
  }

  it("completes a whole final event that a cleanly ended upstream left without its blank line", async () => {
    const up = upstream([chunk("Hi"), "data: [DONE]"], "close");
    const { out, state } = direct(chat, up.body);
    const events = eventsOf(await readAll(out));
    expect(events.at(-1)?.raw).toBe("data: [DONE]\n\n");
    expect(state.outcome).toBe("complete");
  });

  it("drops a fragment at a clean end, then says the answer is incomplete", async () => {
    const up = upstream([chunk("Hi"), 'data: {"choices":[{"index":0,"delta":{"content":"Hel'], "close");
    const { out, state } = direct(chat, up.body);
    const text = await readAll(out);
    expect(text).not.toContain('"Hel');
    const events = eventsOf(text);
    expect(events.map((e) => e.data.includes("upstream_interrupted"))).toEqual([false, true]);
    expect(state.endDetail()).toMatch(/^upstream_interrupted: the upstream stream ended before/);
  });
});

describe("a bare error body at the end of a Gemini stream", () => {
  it("is still read for its error after a clean end, though it has no SSE framing", async () => {
    const up = upstream([readFixture("gemini/stream-error-mid-stream.sse")], "close");
    const { out, state } = direct(FORMATS.gemini, up.body);
    const events = eventsOf(await readAll(out));
    expect(events.at(-1)?.data).toContain("CANCELLED");
    expect(state.endDetail()).toMatch(/^upstream_error: /);
  });
});
