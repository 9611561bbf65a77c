import { GatewayError } from "../errors.ts";
import { ERROR_CODE } from "../protocol.ts";
import { CHAT_OBJECT } from "./wire.ts";

/**
 * The worker's side of the chat objects (one per `/v1/ui/chat` chat id, see objects/chat-object.ts):
 * each remembers who started the chat and which stream answers it now, so `useChat`'s reconnect,
 * which knows only the chat id, finds the stream.
 */
export class ChatLinks {
  readonly #chats: DurableObjectNamespace;

  constructor(chats: DurableObjectNamespace) {
    this.#chats = chats;
  }

  /** Takes `chatId` for `owner` before anything is sent upstream; a chat of another principal is a 403. */
  async claim(chatId: string, owner: string): Promise<void> {
    const res = await this.#call(chatId, owner, CHAT_OBJECT.claim, "POST");
    if (res.status === CHAT_OBJECT.foreignStatus) {
      throw new GatewayError(
        403,
        ERROR_CODE.forbidden,
        "this chat id belongs to another caller: start a new chat (a new id)",
      );
    }
    if (!res.ok) throw new GatewayError(500, ERROR_CODE.internal, "the chat could not be recorded");
  }

  /**
   * Records `streamId` as the chat's stream now, before its answer is handed to the client; undefined
   * (an answer that is not resumable) leaves the chat with no stream to reconnect to.
   */
  async point(chatId: string, owner: string, streamId: string | undefined): Promise<void> {
    const op =
      streamId === undefined
        ? CHAT_OBJECT.point
        : `${CHAT_OBJECT.point}?stream=${encodeURIComponent(streamId)}`;
    const res = await this.#call(chatId, owner, op, "POST");
    if (!res.ok) throw new GatewayError(500, ERROR_CODE.internal, "the chat could not be recorded");
  }

  /**
   * The chat's newest stream id, undefined when it has none (never started, or expired). A chat of
   * another principal is a 404, as a stream of another principal is.
   */
  async current(chatId: string, owner: string): Promise<string | undefined> {
    const res = await this.#call(chatId, owner, CHAT_OBJECT.current, "GET");
    if (res.status === CHAT_OBJECT.foreignStatus) {
      throw new GatewayError(
        404,
        ERROR_CODE.streamNotFound,
        "no stream of yours for this chat id (another caller started the chat)",
      );
    }
    if (res.status === 204) return undefined;
    if (!res.ok) throw new GatewayError(500, ERROR_CODE.internal, "the chat could not be read");
    const body: unknown = await res.json();
    const id =
      typeof body === "object" && body !== null ? (body as { streamId?: unknown }).streamId : undefined;
    return typeof id === "string" ? id : undefined;
  }

  #call(chatId: string, owner: string, op: string, method: string): Promise<Response> {
    return this.#chats
      .get(this.#chats.idFromName(chatId))
      .fetch(`${CHAT_OBJECT.origin}${op}`, { method, headers: { [CHAT_OBJECT.ownerHeader]: owner } });
  }
}
