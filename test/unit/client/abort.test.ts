import { describe, expect, it, vi } from "vitest";
import { type ChatDelta, StreamAbortedError } from "../../../src/client/index.ts";
import { FakeGateway } from "./fake-gateway.ts";
import { numberEvents, readChatFixture } from "./fixtures.ts";
import { collectFailure, start } from "./harness.ts";

const text = readChatFixture("chat-text-include-usage.sse");
const stream = numberEvents(text);
// The POST delivers five events and then stays open, like a generation still in progress.
const hangAfterFive = (body: { connection: number }) =>
  body.connection === 0 ? (stream.ends[4] ?? 0) : undefined;

/** Yields the stream's deltas, aborting `controller` at the first one. */
async function* withAbortOnFirst(
  chat: AsyncIterable<ChatDelta>,
  controller: AbortController,
): AsyncGenerator<ChatDelta> {
  for await (const delta of chat) {
    controller.abort();
    yield delta;
  }
}

describe("abort()", () => {
  it("stops reading and sends DELETE to the stream at the POST url's origin", async () => {
    const gateway = new FakeGateway({ stream, resumeToken: "tok", hangAt: hangAfterFive });
    const chat = start(gateway, {
      url: "https://gw.example/openai/v1/chat/completions",
      headers: { authorization: "Bearer k" },
    });
    const seen: string[] = [];
    let cancelled: Promise<void> | undefined;
    let error: unknown;
    try {
      for await (const delta of chat) {
        seen.push(delta.type);
        if (seen.length === 2) cancelled = chat.abort();
      }
    } catch (caught) {
      error = caught;
    }
    expect(seen).toHaveLength(2);
    expect(error).toBeInstanceOf(StreamAbortedError);
    expect(error).toMatchObject({ name: "AbortError" });
    await expect(chat.done).rejects.toBeInstanceOf(StreamAbortedError);
    await cancelled;
    const [deletion] = gateway.seen("DELETE");
    expect(deletion?.url).toBe("https://gw.example/v1/streams/s-test?token=tok");
    expect(deletion?.headers.get("authorization")).toBe("Bearer k");
    expect(gateway.requests[0]?.signal?.aborted).toBe(true);
    expect(gateway.closedByClient).toBe(1);
    expect(gateway.seen("GET")).toHaveLength(0);
  });

  it("cancels through the caller's AbortSignal as well", async () => {
    const controller = new AbortController();
    const gateway = new FakeGateway({ stream, hangAt: hangAfterFive });
    const chat = start(gateway, { signal: controller.signal });
    const { error } = await collectFailure(withAbortOnFirst(chat, controller));
    expect(error).toMatchObject({ name: "AbortError" });
    await expect(chat.done).rejects.toMatchObject({ name: "AbortError" });
    await chat.abort();
    expect(gateway.seen("DELETE")).toHaveLength(1);
  });

  it("sends nothing when the signal was already aborted", async () => {
    const controller = new AbortController();
    controller.abort();
    const gateway = new FakeGateway({ stream });
    await expect(start(gateway, { signal: controller.signal }).done).rejects.toMatchObject({
      name: "AbortError",
    });
    expect(gateway.requests).toHaveLength(0);
  });

  it("waits for the POST's headers to learn the stream id, then sends DELETE", async () => {
    let release = (): void => undefined;
    const holdPost = new Promise<void>((resolve) => {
      release = resolve;
    });
    const gateway = new FakeGateway({ stream, holdPost });
    const chat = start(gateway);
    await Promise.resolve();
    const cancelled = chat.abort();
    await expect(chat.done).rejects.toMatchObject({ name: "AbortError" });
    expect(gateway.seen("DELETE")).toHaveLength(0);
    release();
    await cancelled;
    expect(gateway.seen("DELETE").map((request) => request.url)).toEqual([
      "https://gw.example/v1/streams/s-test",
    ]);
  });

  it("gives up waiting for the headers after a bound, without a DELETE it cannot address", async () => {
    vi.useFakeTimers();
    try {
      const gateway = new FakeGateway({ stream, holdPost: new Promise<void>(() => undefined) });
      const chat = start(gateway);
      const cancelled = chat.abort();
      await vi.advanceTimersByTimeAsync(10_000);
      await cancelled;
      expect(gateway.requests[0]?.signal?.aborted).toBe(true);
      expect(gateway.seen("DELETE")).toHaveLength(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it("stops a pending backoff and does not resume", async () => {
    let wake = (): void => undefined;
    const gateway = new FakeGateway({ stream, cut: () => ({ at: stream.ends[2] ?? 0, how: "error" }) });
    const chat = start(gateway, {
      sleep: (_ms, signal) =>
        new Promise<void>((resolve) => {
          wake = resolve;
          signal.addEventListener("abort", () => resolve());
        }),
      onInterruption: () => {
        void chat.abort();
      },
    });
    await expect(chat.done).rejects.toMatchObject({ name: "AbortError" });
    wake();
    await chat.abort();
    expect(gateway.seen("GET")).toHaveLength(0);
    expect(gateway.seen("DELETE")).toHaveLength(1);
  });

  it("does nothing after the stream completed", async () => {
    const gateway = new FakeGateway({ stream });
    const chat = start(gateway);
    await chat.done;
    await chat.abort();
    expect(gateway.seen("DELETE")).toHaveLength(0);
  });
});
