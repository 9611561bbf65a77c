import { describe, expect, it, vi } from "vitest";
import {
  GatewayStreamError,
  type StreamChatOptions,
  StreamInterruptedError,
  streamChat,
} from "../../../src/client/index.ts";
import { FakeSocketGateway, payloadsOf } from "./fake-socket-gateway.ts";
import { CHAT_FIXTURES, chunk, expectedAnswer, readChatFixture } from "./fixtures.ts";
import {
  CHAT_BODY,
  CHAT_URL,
  collect,
  collectFailure,
  instantSleep,
  textOf,
  toolCallsOf,
} from "./harness.ts";

function startSocket(gateway: FakeSocketGateway, options: Partial<StreamChatOptions> = {}) {
  return streamChat({
    url: CHAT_URL,
    body: CHAT_BODY,
    transport: "websocket",
    webSocket: gateway.factory,
    fetch: () => Promise.reject(new Error("the websocket transport must not fetch")),
    sleep: instantSleep(),
    random: () => 0.5,
    ...options,
  });
}

const TEXT_EVENTS = ["Hel", "lo, ", "wor", "ld"].map((t) => JSON.parse(chunk({ content: t })) as unknown);

describe('streamChat({ transport: "websocket" })', () => {
  for (const name of CHAT_FIXTURES) {
    it(`reads ${name} over the socket with the same answer as over SSE`, async () => {
      const sse = readChatFixture(name);
      const expected = expectedAnswer(sse);
      const gateway = new FakeSocketGateway(payloadsOf(sse));
      const { deltas, result } = await collect(startSocket(gateway));
      expect(result.text).toBe(expected.text);
      expect(result.toolCalls).toEqual(expected.toolCalls);
      expect(result.finishReason).toBe(expected.finishReason);
      // SSE counts its `[DONE]` event; on the socket the end is `stream.done`, not an event.
      expect(result.events).toBe(expected.events - 1);
      expect(toolCallsOf(deltas)).toEqual(expected.toolCalls);
      expect(result.streamId).toBe("s-test");
    });
  }

  it("opens ws(s)://<origin>/v1/ws with the bearer as ?token= and sends the body with stream: true", async () => {
    const gateway = new FakeSocketGateway(TEXT_EVENTS);
    await collect(startSocket(gateway, { headers: { authorization: "Bearer jwt.a.b" } }));
    expect(gateway.urls).toEqual(["wss://gw.example/v1/ws?token=jwt.a.b"]);
    expect(gateway.openings).toEqual([{ type: "chat.create", body: { ...CHAT_BODY, stream: true } }]);
  });

  it("resumes on a new socket after a drop at every event, giving every character exactly once", async () => {
    for (let k = 0; k < TEXT_EVENTS.length; k++) {
      const onResume = vi.fn();
      const gateway = new FakeSocketGateway(TEXT_EVENTS, (connection) =>
        connection === 0 ? { stopAfter: k } : { overlap: 1 },
      );
      const { deltas, result } = await collect(startSocket(gateway, { onResume }));
      expect(textOf(deltas), `dropped after event ${k}`).toBe("Hello, world");
      expect(result.resumes).toBe(1);
      expect(gateway.openings[1]).toEqual({
        type: "stream.resume",
        stream: "s-test",
        after: k,
        token: "tok-1",
      });
      expect(onResume).toHaveBeenCalledExactlyOnceWith({ streamId: "s-test", lastEventId: k, resumes: 1 });
    }
  });

  it("resumes after a slow_reader stream.error, as after a drop", async () => {
    const gateway = new FakeSocketGateway(TEXT_EVENTS, (connection) =>
      connection === 0 ? { stopAfter: 2, end: { code: "slow_reader" } } : {},
    );
    const { deltas } = await collect(startSocket(gateway));
    expect(textOf(deltas)).toBe("Hello, world");
  });

  it("rejects with StreamInterruptedError(not_found) when the gateway no longer has the stream", async () => {
    const gateway = new FakeSocketGateway(TEXT_EVENTS, (connection) =>
      connection === 0 ? { stopAfter: 1 } : { stopAfter: 0, end: { code: "stream_not_found" } },
    );
    const { deltas, error } = await collectFailure(startSocket(gateway));
    expect(error).toBeInstanceOf(StreamInterruptedError);
    expect((error as StreamInterruptedError).reason).toBe("not_found");
    expect(textOf(deltas)).toBe("Hel");
  });

  it("rejects with StreamInterruptedError(gap) when a resumed socket skips events", async () => {
    const gateway = new FakeSocketGateway(TEXT_EVENTS, (connection) =>
      connection === 0 ? { stopAfter: 1 } : { skip: 1 },
    );
    const { error } = await collectFailure(startSocket(gateway));
    expect((error as StreamInterruptedError).reason).toBe("gap");
  });

  it("gives up with retries_exhausted when every new socket drops without progress", async () => {
    const gateway = new FakeSocketGateway(TEXT_EVENTS, (connection) => ({
      stopAfter: connection === 0 ? 2 : 2,
    }));
    const { error } = await collectFailure(startSocket(gateway, { retries: 3 }));
    expect((error as StreamInterruptedError).reason).toBe("retries_exhausted");
    expect(gateway.openings.length).toBe(4);
  });

  it("rejects with the gateway's error and status when chat.create is refused", async () => {
    const gateway = new FakeSocketGateway(TEXT_EVENTS, () => ({
      refuse: { message: "model not allowed", code: "forbidden", status: 403 },
    }));
    const { error } = await collectFailure(startSocket(gateway));
    expect(error).toBeInstanceOf(GatewayStreamError);
    expect(error).toMatchObject({ status: 403, code: "forbidden", message: "model not allowed" });
  });

  it("raises an in-band error event as GatewayStreamError, as over SSE", async () => {
    const events = [
      TEXT_EVENTS[0],
      { error: { message: "upstream went away", code: "upstream_interrupted" } },
    ];
    const gateway = new FakeSocketGateway(events);
    const { error } = await collectFailure(startSocket(gateway));
    expect(error).toMatchObject({ code: "upstream_interrupted", partialText: "Hel" });
  });

  it("reports the gateway's timings from stream.done", async () => {
    const gateway = new FakeSocketGateway(TEXT_EVENTS, () => ({}), {
      gatewayTtftMs: 12.5,
      outputTokens: "x",
    });
    const { result } = await collect(startSocket(gateway));
    expect(result.serverTimings).toEqual({ gatewayTtftMs: 12.5 });
  });

  it("abort() closes the socket and cancels the generation with DELETE, resume token included", async () => {
    const gateway = new FakeSocketGateway(TEXT_EVENTS, () => ({ stopAfter: 2, end: "close" }));
    const seen: { url: string; method: string | undefined }[] = [];
    const stream = startSocket(gateway, {
      fetch: (url, init) => {
        seen.push({ url, method: init.method });
        return Promise.resolve(new Response(null, { status: 200 }));
      },
    });
    for await (const delta of stream) {
      expect(delta).toEqual({ type: "text", text: "Hel" });
      await stream.abort();
      break;
    }
    await expect(stream.done).rejects.toMatchObject({ name: "AbortError" });
    expect(seen).toEqual([{ url: "https://gw.example/v1/streams/s-test?token=tok-1", method: "DELETE" }]);
  });
});
