import { authenticate } from "../auth/principal.ts";
import { checkRateLimit } from "../auth/rate-limit.ts";
import { chatLinks } from "../bindings.ts";
import { configFor } from "../config.ts";
import type { Env } from "../env.ts";
import { GatewayError } from "../errors.ts";
import { readJsonBody } from "../http/body.ts";
import { ERROR_CODE, EVENT_STREAM_TYPE, HEADER, UI_MESSAGE_STREAM_VERSION } from "../protocol.ts";
import { callStream } from "../resumable/stream-stub.ts";
import { STREAM_OBJECT } from "../resumable/wire.ts";
import { isChatId, parseUiChatRequest } from "../ui-stream/request.ts";
import { UiMessageStage } from "../ui-stream/stage.ts";
import { runChat } from "./chat.ts";

function isEventStream(res: Response): boolean {
  return res.ok && res.body !== null && (res.headers.get("content-type") ?? "").startsWith(EVENT_STREAM_TYPE);
}

/** The gateway's OpenAI-chunk stream relayed as a UI message stream, its other headers kept. */
function uiStream(res: Response): Response {
  const headers = new Headers(res.headers);
  headers.set(HEADER.uiMessageStream, UI_MESSAGE_STREAM_VERSION);
  const body = res.body?.pipeThrough(new UiMessageStage()) ?? null;
  return new Response(body, { status: res.status, headers });
}

/** No stream to reconnect to: what useChat's reconnect takes as "nothing to resume". */
function noActiveStream(): Response {
  return new Response(null, { status: 204 });
}

/**
 * `POST /v1/ui/chat`: a backend for the AI SDK's `useChat`. Its body (the chat `id`, `messages` with
 * parts, and `model`) becomes a Chat Completions request run by the same exchange as
 * `/v1/chat/completions`, whose stream is translated into the UI message stream protocol on the way
 * out. A resumable answer is recorded as the chat's stream, for `GET /v1/ui/chat/{id}/stream`.
 */
export async function handleUiChat(request: Request, env: Env): Promise<Response> {
  const receivedAt = Date.now();
  const principal = await authenticate(request, env);
  await checkRateLimit(request, env, principal);
  const body = await readJsonBody(request, configFor(env).maxBodyBytes);
  const ui = parseUiChatRequest(body.json);
  const links = chatLinks(env);
  // Before anything goes upstream: a chat started by another principal is not continued.
  await links?.claim(ui.chatId, principal.id);
  const res = await runChat({ request, env, principal, json: ui.chat, receivedAt, route: "ui" });
  // An error before the first byte is JSON in OpenAI's shape, which useChat reports as the error.
  if (!isEventStream(res)) return res;
  if (links !== undefined) {
    try {
      await links.point(ui.chatId, principal.id, res.headers.get(HEADER.streamId) ?? undefined);
    } catch (err) {
      // The answer is already streaming: it is delivered, only a reconnect by chat id will not find it.
      console.error(JSON.stringify({ msg: "chat stream not recorded", error: String(err) }));
    }
  }
  return uiStream(res);
}

/**
 * `GET /v1/ui/chat/{id}/stream`: `useChat`'s reconnect (`resume: true`, or after a dropped
 * connection). A chat whose answer is still being generated gets it from the start (the default
 * transport treats a resumed stream as a replay), then live to its end; 204 when the chat has no
 * active stream. Only the principal that started the chat is answered.
 */
export async function handleUiChatStream(request: Request, env: Env, chatId: string): Promise<Response> {
  if (!isChatId(chatId)) {
    throw new GatewayError(
      400,
      ERROR_CODE.invalidRequest,
      "the chat id in the path must be 1 to 128 letters, digits, '_' or '-'",
    );
  }
  const principal = await authenticate(request, env);
  const links = chatLinks(env);
  const streams = env.STREAMS;
  if (links === undefined || streams === undefined) return noActiveStream();
  const streamId = await links.current(chatId, principal.id);
  if (streamId === undefined) return noActiveStream();
  const status = await callStream(streams, streamId, principal.id, STREAM_OBJECT.status);
  // Gone (expired) or finished: nothing is being generated for this chat now.
  if (!status.ok || !isStreaming(await status.json())) return noActiveStream();
  const read = await callStream(streams, streamId, principal.id, `${STREAM_OBJECT.read}?after=0`);
  if (!isEventStream(read)) return noActiveStream();
  return uiStream(read);
}

function isStreaming(status: unknown): boolean {
  return (
    typeof status === "object" && status !== null && (status as { state?: unknown }).state === "streaming"
  );
}
