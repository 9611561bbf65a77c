import { describe, expect, it } from "vitest";
import { GuardrailStep } from "../../../src/guardrail/stage.ts";
import { bodySource } from "../../../src/pipeline/body-source.ts";
import { buildPipeline, driveItems } from "../../../src/pipeline/build.ts";
import { StreamState } from "../../../src/pipeline/stream-state.ts";
import { Translation } from "../../../src/pipeline/translation.ts";
import { SseDecoder } from "../../../src/sse/decoder.ts";
import type { SseEvent } from "../../../src/sse/types.ts";
import { FAMILIES, FORMATS } from "../../../src/upstream/registry.ts";
import { config } from "../guardrail/support.ts";

// MAX_EVENT_BYTES through the whole source: an upstream event over the limit (one that never ends
// grows without bound) ends the answer in band, aborts the upstream and is `interrupted`.

const encoder = new TextEncoder();
const chat = FORMATS["openai-chat"];
const LIMIT = 1024;

/** An upstream body that sends `chunks`, one per read, then hangs or closes; records whether it was cancelled. */
function upstream(chunks: readonly string[], then: "close" | "hang" = "hang") {
  const seen = { cancelled: false, reads: 0 };
  const body = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        const c = chunks[seen.reads++];
        if (c !== undefined) controller.enqueue(encoder.encode(c));
        else if (then === "close") controller.close();
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

/** An event that never ends: `data: ` and then `pieces` reads of 512 characters, never a line break. */
function endless(pieces: number): string[] {
  return ["data: ", ...Array.from({ length: pieces }, () => "x".repeat(512))];
}

const chunk = (content: string) =>
  `data: {"choices":[{"index":0,"delta":{"content":${JSON.stringify(content)}}}]}\n\n`;

function run(
  chunks: readonly string[],
  options: { guard?: unknown; translate?: Translation; ending?: "close" | "hang" } = {},
) {
  const up = upstream(chunks, options.ending);
  const state = new StreamState();
  const aborted: string[] = [];
  const abortUpstream = (reason: string) => aborted.push(reason);
  const steps =
    options.guard === undefined ? [] : [new GuardrailStep(config(options.guard), chat, state, abortUpstream)];
  const out = buildPipeline({
    body: bodySource(up.body),
    format: chat,
    state,
    abortUpstream,
    steps,
    maxEventBytes: LIMIT,
    translate: options.translate,
  });
  return { out, state, aborted, seen: up.seen };
}

/** The client's SSE events (the timings comment left out), failing if the stream hangs. */
async function eventsOf(stream: ReadableStream<Uint8Array>): Promise<SseEvent[]> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("the stream did not close")), 2000);
  });
  try {
    const text = await Promise.race([new Response(stream).text(), deadline]);
    const d = new SseDecoder();
    return [...d.push(text), ...d.end()].filter((e) => e.hasData || e.event !== undefined);
  } finally {
    clearTimeout(timer);
  }
}

describe("an upstream event longer than MAX_EVENT_BYTES", () => {
  it("ends the answer with upstream_event_too_large, aborts the upstream, and is `interrupted`", async () => {
    const { out, state, aborted, seen } = run([chunk("Hi"), ...endless(100)]);
    const events = await eventsOf(out);
    expect(events.map((e) => e.raw).slice(0, -1)).toEqual([chunk("Hi")]);
    expect(JSON.parse(events.at(-1)?.data ?? "")).toMatchObject({
      error: { code: "upstream_event_too_large", type: "server_error" },
    });
    expect(aborted).toEqual(["upstream_event_too_large"]);
    expect(seen.cancelled).toBe(true);
    expect(state.outcome).toBe("interrupted");
    expect(state.endDetail()).toMatch(
      /^upstream_event_too_large: the upstream sent an event longer than the gateway's limit of 1024 /,
    );
  });

  it("stops reading as soon as the event is over the limit, however long the upstream goes on", async () => {
    // 6 + 2 x 512 characters are within 1,024 + 6; the third read of 512 is the first over.
    const { out, seen } = run(endless(1000));
    await eventsOf(out);
    expect(seen.reads).toBe(3);
  });

  it("ends a stored answer's driven pipeline the same way", async () => {
    const up = upstream([chunk("Hi"), ...endless(5)]);
    const state = new StreamState();
    const aborted: string[] = [];
    const raws: string[] = [];
    const driven = driveItems(
      {
        body: bodySource(up.body),
        format: chat,
        state,
        abortUpstream: (reason) => aborted.push(reason),
        maxEventBytes: LIMIT,
      },
      (item) => raws.push(item.ev.raw),
    );
    await driven.done;
    expect(raws).toHaveLength(2);
    expect(raws[1]).toContain('"code":"upstream_event_too_large"');
    expect(aborted).toEqual(["upstream_event_too_large"]);
    expect(state.upstreamOutcome()).toBe("interrupted");
  });

  it("passes an event within the limit in characters though over it in bytes: each character is at least a byte", async () => {
    // 400 three-byte characters: about 460 characters with the framing, over 1,200 bytes. The limit
    // counts characters, so multi-byte text may exceed it in bytes; an event within it in bytes never fails.
    const wide = chunk("秋".repeat(400));
    expect(wide.length).toBeLessThan(LIMIT);
    expect(encoder.encode(wide).byteLength).toBeGreaterThan(LIMIT);
    const { out, state } = run([wide, "data: [DONE]\n\n"], { ending: "close" });
    expect((await eventsOf(out)).map((e) => e.raw)).toEqual([wide, "data: [DONE]\n\n"]);
    expect(state.outcome).toBe("complete");
  });

  it("sends what the guardrail held back before the error, in order", async () => {
    // A trailing digit is held (it could begin a card number) until the stream ends.
    const { out, state } = run([chunk("Call 5"), ...endless(5)], {
      guard: { builtins: { payment_card: "block" } },
    });
    const events = await eventsOf(out);
    expect(events).toHaveLength(2);
    expect(events[0]?.raw).toBe(chunk("Call 5"));
    expect(events[1]?.data).toContain("upstream_event_too_large");
    expect(state.outcome).toBe("interrupted");
  });

  it("ends a translated answer in the client's format, without [DONE]", async () => {
    const translator = FAMILIES.anthropic.translator.createStream({
      id: "chatcmpl-x",
      created: 1,
      model: "anthropic/m",
      includeUsage: false,
    });
    const delta =
      'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}\n\n';
    const { out, state, aborted } = run([delta, "event: content_block_delta\n", ...endless(5)], {
      translate: new Translation(translator, chat),
    });
    const events = await eventsOf(out);
    expect(events.some((e) => e.data === "[DONE]")).toBe(false);
    expect(JSON.parse(events[0]?.data ?? "")).toMatchObject({ choices: [{ delta: { content: "Hi" } }] });
    expect(JSON.parse(events.at(-1)?.data ?? "")).toMatchObject({
      error: { code: "upstream_event_too_large" },
    });
    expect(aborted).toEqual(["upstream_event_too_large"]);
    expect(state.endDetail()).toMatch(/^upstream_event_too_large: /);
  });

  it("is no error once the answer has ended: what follows the end marker is never read", async () => {
    const { out, state, aborted } = run([`${chunk("Hi")}data: [DONE]\n\ndata: ${"z".repeat(2 * LIMIT)}`]);
    const events = await eventsOf(out);
    expect(events.at(-1)?.data).toBe("[DONE]");
    expect(aborted).toEqual([]);
    expect(state.outcome).toBe("complete");
  });
});
