import type {
  ChatDelta,
  ChatResult,
  ChatStream,
  StreamChatOptions,
  ToolCall,
} from "../../../src/client/index.ts";
import { streamChat } from "../../../src/client/index.ts";
import type { FakeGateway } from "./fake-gateway.ts";

/** The chat URL the tests post to; resumes must go to its origin. */
export const CHAT_URL = "https://gw.example/v1/chat/completions";

/** A minimal chat body. */
export const CHAT_BODY = { model: "gpt-4o", messages: [{ role: "user", content: "hi" }] };

/** A sleep that returns at once and records the requested delays (backoff without waiting). */
export function instantSleep(delays: number[] = []): (ms: number) => Promise<void> {
  return (ms) => {
    delays.push(ms);
    return Promise.resolve();
  };
}

/** Starts a stream against the fake with instant backoff and fixed jitter. */
export function start(gateway: FakeGateway, options: Partial<StreamChatOptions> = {}): ChatStream {
  return streamChat({
    url: CHAT_URL,
    body: CHAT_BODY,
    fetch: gateway.fetch,
    sleep: instantSleep(),
    random: () => 0.5,
    ...options,
  });
}

/** Iterates the stream to its end and awaits the result. */
export async function collect(stream: ChatStream): Promise<{ deltas: ChatDelta[]; result: ChatResult }> {
  const deltas: ChatDelta[] = [];
  for await (const delta of stream) deltas.push(delta);
  return { deltas, result: await stream.done };
}

/** Iterates until the stream fails and returns the deltas and the error (fails the test if it ends cleanly). */
export async function collectFailure(
  stream: AsyncIterable<ChatDelta>,
): Promise<{ deltas: ChatDelta[]; error: unknown }> {
  const deltas: ChatDelta[] = [];
  try {
    for await (const delta of stream) deltas.push(delta);
  } catch (error) {
    return { deltas, error };
  }
  throw new Error("the stream ended without an error");
}

/** The text deltas concatenated: what a UI appending each delta would show. */
export function textOf(deltas: readonly ChatDelta[]): string {
  return deltas.map((delta) => (delta.type === "text" ? delta.text : "")).join("");
}

/** Tool calls rebuilt from the deltas alone, as a UI would. */
export function toolCallsOf(deltas: readonly ChatDelta[]): ToolCall[] {
  const calls = new Map<
    number,
    { index: number; id: string | null; name: string | null; arguments: string }
  >();
  for (const delta of deltas) {
    if (delta.type !== "tool_call") continue;
    const call = calls.get(delta.index) ?? { index: delta.index, id: null, name: null, arguments: "" };
    call.id ??= delta.id ?? null;
    call.name ??= delta.name ?? null;
    call.arguments += delta.arguments;
    calls.set(delta.index, call);
  }
  return [...calls.values()];
}
