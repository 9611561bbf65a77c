import { DurableObject } from "cloudflare:workers";
import { configFor } from "../config.ts";
import type { Env } from "../env.ts";
import { CHAT_OBJECT } from "../resumable/wire.ts";

/**
 * The chat object's one table (documented in docs/storage.md): who started the chat and its newest
 * stream. Created in the object, one row, like the stream object's `stream` table.
 */
const SCHEMA = `CREATE TABLE IF NOT EXISTS chat (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  owner TEXT NOT NULL,
  stream_id TEXT,
  updated_at INTEGER NOT NULL
)`;

interface ChatRow {
  owner: string;
  stream_id: string | null;
  updated_at: number;
  [key: string]: SqlStorageValue;
}

/**
 * One Durable Object per `/v1/ui/chat` chat id: the principal that started the chat, and the stream
 * that answers it now (each message starts a new resumable stream). `useChat` reconnects by chat id
 * alone; this is how that id finds its stream. The row is deleted `STREAM_TTL_SECONDS` after the
 * chat's last use, by alarm, when its streams are gone too.
 */
export class ChatObject extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(SCHEMA);
  }

  override async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const owner = request.headers.get(CHAT_OBJECT.ownerHeader) ?? "";
    const row = this.#row();
    // The chat belongs to the principal that started it; anyone else is told nothing more than that.
    if (row !== undefined && row.owner !== owner)
      return new Response(null, { status: CHAT_OBJECT.foreignStatus });
    switch (url.pathname) {
      case CHAT_OBJECT.claim:
        await this.#write(owner, row?.stream_id ?? null);
        return new Response(null, { status: 200 });
      case CHAT_OBJECT.point:
        await this.#write(owner, url.searchParams.get("stream") ?? null);
        return new Response(null, { status: 200 });
      case CHAT_OBJECT.current:
        if (row?.stream_id === undefined || row.stream_id === null)
          return new Response(null, { status: 204 });
        // A chat being read is in use: its row lives on with it.
        await this.#write(owner, row.stream_id);
        return Response.json({ streamId: row.stream_id });
      default:
        return new Response("unknown chat operation", { status: 400 });
    }
  }

  #row(): ChatRow | undefined {
    return this.ctx.storage.sql.exec<ChatRow>("SELECT owner, stream_id, updated_at FROM chat").toArray()[0];
  }

  async #write(owner: string, streamId: string | null): Promise<void> {
    const now = Date.now();
    this.ctx.storage.sql.exec(
      "INSERT INTO chat (id, owner, stream_id, updated_at) VALUES (1, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET stream_id = excluded.stream_id, updated_at = excluded.updated_at",
      owner,
      streamId,
      now,
    );
    await this.ctx.storage.setAlarm(now + this.#ttlMs());
  }

  #ttlMs(): number {
    return configFor(this.env).streamTtlSeconds * 1000;
  }

  /** Retention: the row goes once the chat has been unused for the retention period. */
  override async alarm(): Promise<void> {
    const row = this.#row();
    if (row === undefined) return;
    const expires = row.updated_at + this.#ttlMs();
    if (Date.now() >= expires) {
      await this.ctx.storage.deleteAll();
      // deleteAll drops the table too: recreate it empty so the chat id is free again.
      this.ctx.storage.sql.exec(SCHEMA);
    } else await this.ctx.storage.setAlarm(expires);
  }
}
