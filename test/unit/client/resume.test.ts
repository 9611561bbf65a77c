import { describe, expect, it, vi } from "vitest";
import { StreamInterruptedError } from "../../../src/client/index.ts";
import { FakeGateway, piecesOf, RETRY_PREFIX, randomPieces } from "./fake-gateway.ts";
import {
  CHAT_FIXTURES,
  chunk,
  expectedAnswer,
  numberEvents,
  numberedSse,
  readChatFixture,
} from "./fixtures.ts";
import { collect, collectFailure, instantSleep, start, textOf, toolCallsOf } from "./harness.ts";

const encoder = new TextEncoder();

describe("resume after a broken connection", () => {
  for (const name of CHAT_FIXTURES) {
    it(`gives ${name} exactly once when the POST is cut at every event boundary`, {
      timeout: 30_000,
    }, async () => {
      const text = readChatFixture(name);
      const expected = expectedAnswer(text);
      const stream = numberEvents(text);
      // Cut after event k (k = 0: headers only) for every k short of the end, alternating a clean
      // early close and a network error; the resume replays with random chunk sizes.
      for (let k = 0; k < stream.ends.length; k++) {
        const at = k === 0 ? 0 : (stream.ends[k - 1] ?? 0);
        const onResume = vi.fn();
        const gateway = new FakeGateway({
          stream,
          cut: (body) => (body.connection === 0 ? { at, how: k % 2 === 0 ? "close" : "error" } : undefined),
          chunking: randomPieces(k),
        });
        const { deltas, result } = await collect(start(gateway, { onResume }));
        expect(textOf(deltas), `cut after event ${k}`).toBe(expected.text);
        expect(toolCallsOf(deltas)).toEqual(expected.toolCalls);
        expect(result.text).toBe(expected.text);
        expect(result.refusal).toBe(expected.refusal);
        expect(result.toolCalls).toEqual(expected.toolCalls);
        expect(result.events).toBe(expected.events);
        expect(result.resumes).toBe(1);
        expect(onResume).toHaveBeenCalledExactlyOnceWith({ streamId: "s-test", lastEventId: k, resumes: 1 });
        const [resume] = gateway.seen("GET");
        expect(resume?.headers.get("last-event-id")).toBe(k === 0 ? null : String(k));
      }
    });
  }

  it("completes when every connection drops right after one new event", async () => {
    const text = readChatFixture("chat-parallel-tool-calls.sse");
    const stream = numberEvents(text);
    const gateway = new FakeGateway({ stream, cut: (body) => ({ at: body.ends[0] ?? 0, how: "error" }) });
    const { deltas, result } = await collect(start(gateway, { retries: 1 }));
    expect(toolCallsOf(deltas)).toEqual(expectedAnswer(text).toolCalls);
    // The last connection carries [DONE]; every earlier one delivered exactly one event.
    expect(result.resumes).toBe(stream.ends.length - 1);
  });

  for (const name of ["chat-finish-length.sse", "chat-refusal-delta.sse"]) {
    it(`completes ${name} when the POST is cut at every byte, mid-event and mid-line`, {
      timeout: 30_000,
    }, async () => {
      const text = readChatFixture(name);
      const expected = expectedAnswer(text);
      const stream = numberEvents(text);
      for (let at = 0; at < stream.bytes.length; at++) {
        const gateway = new FakeGateway({
          stream,
          cut: (body) => (body.connection === 0 ? { at, how: "close" } : undefined),
        });
        const { deltas, result } = await collect(start(gateway));
        expect(`${result.text}|${result.refusal}`, `cut at byte ${at}`).toBe(
          `${expected.text}|${expected.refusal}`,
        );
        expect(deltas.map((delta) => ("text" in delta ? delta.text : "")).join("")).toBe(
          expected.text + expected.refusal,
        );
      }
    });
  }

  it("completes when cut inside a multi-byte UTF-8 character, delivered one byte at a time", async () => {
    const text = readChatFixture("chat-json-object-181-events.sse");
    const expected = expectedAnswer(text);
    expect(expected.text).toContain("°");
    const stream = numberEvents(text);
    const degree = encoder.encode("°");
    const cuts: number[] = [];
    for (let i = 0; i + 1 < stream.bytes.length && cuts.length < 6; i++) {
      if (stream.bytes[i] === degree[0] && stream.bytes[i + 1] === degree[1]) cuts.push(i + 1);
    }
    expect(cuts.length).toBeGreaterThan(0);
    for (const at of cuts) {
      const gateway = new FakeGateway({
        stream,
        cut: (body) => (body.connection === 0 ? { at, how: "error" } : undefined),
        chunking: piecesOf(1),
      });
      const { deltas, result } = await collect(start(gateway));
      expect(result.text).toBe(expected.text);
      expect(textOf(deltas)).toBe(expected.text);
    }
  });

  it("cuts every resumed connection mid-event and still completes exactly once", async () => {
    const text = readChatFixture("chat-text-include-usage.sse");
    const gateway = new FakeGateway({
      stream: numberEvents(text),
      // Each connection delivers two events and half of the third.
      cut: (body) => {
        const [, second, third] = body.ends;
        if (second === undefined || third === undefined) return undefined;
        return { at: Math.floor((second + third) / 2), how: "close" };
      },
    });
    const { deltas, result } = await collect(start(gateway, { retries: 2 }));
    expect(textOf(deltas)).toBe(expectedAnswer(text).text);
    expect(result.usage).toMatchObject({ total_tokens: 44 });
    expect(result.resumes).toBeGreaterThan(5);
  });

  it("ignores events a replay repeats (ids at or below the last seen)", async () => {
    const text = readChatFixture("chat-text-include-usage.sse");
    const stream = numberEvents(text);
    const onUsage = vi.fn();
    const gateway = new FakeGateway({
      stream,
      ignoreCursor: true,
      cut: (body) => (body.connection === 0 ? { at: stream.ends[20] ?? 0, how: "error" } : undefined),
    });
    const { deltas, result } = await collect(start(gateway, { onUsage }));
    expect(textOf(deltas)).toBe(expectedAnswer(text).text);
    expect(result.events).toBe(stream.ends.length);
    expect(onUsage).toHaveBeenCalledTimes(1);
  });

  it("resumes at the POST url's origin with the token, credentials and Last-Event-ID", async () => {
    const stream = numberEvents(readChatFixture("chat-finish-length.sse"));
    const gateway = new FakeGateway({
      stream,
      streamId: "id_with-safe.chars",
      resumeToken: "tok/en+1",
      cut: (body) => (body.connection === 0 ? { at: stream.ends[1] ?? 0, how: "error" } : undefined),
    });
    await start(gateway, {
      url: "https://gw.example:8443/openai/v1/chat/completions?x=1",
      headers: { authorization: "Bearer k", "content-type": "text/plain" },
    }).done;
    const [resume] = gateway.seen("GET");
    expect(resume?.url).toBe("https://gw.example:8443/v1/streams/id_with-safe.chars?token=tok%2Fen%2B1");
    expect(resume?.headers.get("last-event-id")).toBe("2");
    expect(resume?.headers.get("authorization")).toBe("Bearer k");
    expect(resume?.headers.get("accept")).toBe("text/event-stream");
    expect(resume?.headers.get("content-type")).toBeNull();
  });

  it("resumes when asked to interrupt() mid-answer, as the demo's drop-connection control does", async () => {
    const text = readChatFixture("chat-text-include-usage.sse");
    const stream = numberEvents(text);
    const gateway = new FakeGateway({
      stream,
      hangAt: (body) => (body.connection === 0 ? (stream.ends[5] ?? 0) : undefined),
    });
    const onInterruption = vi.fn();
    const chat = start(gateway, { onInterruption });
    const deltas = [];
    for await (const delta of chat) {
      deltas.push(delta);
      if (deltas.length === 3) chat.interrupt();
    }
    expect(textOf(deltas)).toBe(expectedAnswer(text).text);
    expect((await chat.done).resumes).toBe(1);
    expect(onInterruption).toHaveBeenCalledTimes(1);
    expect(gateway.requests[0]?.signal?.aborted).toBe(true);
  });

  it("starts the replay after the resume response's retry: line", () => {
    expect(RETRY_PREFIX).toMatch(/^retry: \d+\n\n$/);
  });
});

describe("when the stream cannot be resumed", () => {
  const payloads = [
    chunk({ content: "Bonjour " }),
    chunk({ content: "à " }),
    chunk({ content: "tous" }),
    "[DONE]",
  ];
  const cutAfter = (events: number) => {
    const stream = numberedSse(payloads);
    return {
      stream,
      cut: (body: { connection: number }) =>
        body.connection === 0 ? { at: stream.ends[events - 1] ?? 0, how: "error" as const } : undefined,
    };
  };

  it("rejects with StreamInterruptedError and the counts once retries are exhausted", async () => {
    const delays: number[] = [];
    const onInterruption = vi.fn();
    const gateway = new FakeGateway({ ...cutAfter(2), resumeStatus: () => 503 });
    const chat = start(gateway, { retries: 3, backoffMs: 100, sleep: instantSleep(delays), onInterruption });
    const { deltas, error } = await collectFailure(chat);
    expect(textOf(deltas)).toBe("Bonjour à ");
    expect(error).toBeInstanceOf(StreamInterruptedError);
    expect(error).toMatchObject({
      reason: "retries_exhausted",
      receivedCharacters: 10,
      receivedEvents: 2,
      lastEventId: 2,
      streamId: "s-test",
      partialText: "Bonjour à ",
    });
    expect((error as Error).message).toBe(
      "Stream interrupted: received 10 characters in 2 events, the answer is incomplete (resuming failed after every retry).",
    );
    await expect(chat.done).rejects.toBe(error);
    expect(gateway.seen("GET")).toHaveLength(3);
    expect(onInterruption).toHaveBeenCalledTimes(3);
    // Equal jitter with random() = 0.5: three quarters of 100, 200, 400.
    expect(delays).toEqual([75, 150, 300]);
  });

  it("retries network failures of the resume request too", async () => {
    const gateway = new FakeGateway({ ...cutAfter(1), resumeStatus: (n) => (n < 3 ? "network" : 200) });
    const { result } = await collect(start(gateway));
    expect(result.text).toBe("Bonjour à tous");
    expect(gateway.seen("GET")).toHaveLength(3);
    expect(result.resumes).toBe(1);
  });

  it("rejects at once when the gateway no longer knows the stream (404)", async () => {
    const gateway = new FakeGateway({ ...cutAfter(1), resumeStatus: () => 404 });
    await expect(start(gateway).done).rejects.toMatchObject({
      name: "StreamInterruptedError",
      reason: "not_found",
      receivedEvents: 1,
    });
    expect(gateway.seen("GET")).toHaveLength(1);
  });

  it("rejects at once when the gateway refuses the cursor (400)", async () => {
    const gateway = new FakeGateway({ ...cutAfter(1), resumeStatus: () => 400 });
    await expect(start(gateway).done).rejects.toMatchObject({ reason: "bad_cursor" });
  });

  it("rejects without resuming when the response had no stream id", async () => {
    const gateway = new FakeGateway({ ...cutAfter(2), streamId: null });
    const error = await start(gateway).done.catch((caught: unknown) => caught);
    expect(error).toMatchObject({ reason: "no_stream_id", receivedCharacters: 10 });
    expect((error as Error).message).toContain("the answer is incomplete");
    expect(gateway.seen("GET")).toHaveLength(0);
  });

  it("rejects when the POST itself fails before any header", async () => {
    const gateway = new FakeGateway({ stream: numberedSse(payloads) });
    const failing = () => Promise.reject(new TypeError("fetch failed"));
    const error = await start(gateway, { fetch: failing }).done.catch((caught: unknown) => caught);
    expect(error).toMatchObject({ reason: "no_stream_id", receivedEvents: 0 });
    expect((error as Error).cause).toBeInstanceOf(TypeError);
  });

  it("rejects instead of dropping text when a replay skips an event", async () => {
    const gateway = new FakeGateway({ ...cutAfter(1), skipOnReplay: 2 });
    await expect(start(gateway).done).rejects.toMatchObject({ reason: "gap", lastEventId: 1 });
  });

  it("never resolves a stream that ends cleanly without [DONE]", async () => {
    const stream = numberedSse(payloads.slice(0, 3));
    const gateway = new FakeGateway({ stream });
    await expect(start(gateway, { retries: 2 }).done).rejects.toMatchObject({
      reason: "retries_exhausted",
      receivedEvents: 3,
    });
  });
});
