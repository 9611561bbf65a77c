import { streamPrincipalId } from "../auth/stream-access.ts";
import type { Env } from "../env.ts";
import { GatewayError } from "../errors.ts";
import { ERROR_CODE, HEADER } from "../protocol.ts";
import { isStreamId } from "../resumable/stream-id.ts";
import { callStream } from "../resumable/stream-stub.ts";
import { STREAM_OBJECT } from "../resumable/wire.ts";

/** Event numbers are small non-negative integers; anything else is a malformed cursor. */
const CURSOR = /^\d{1,15}$/;

function streamNotFound(): GatewayError {
  return new GatewayError(
    404,
    ERROR_CODE.streamNotFound,
    "no stream with this id (unknown, expired or not yours)",
  );
}

/** The cursor from `Last-Event-ID` (what EventSource sends on reconnect, so it wins) or `?last_event_id=`. */
function cursorOf(request: Request): number {
  const raw =
    request.headers.get(HEADER.lastEventId) ?? new URL(request.url).searchParams.get("last_event_id");
  if (raw === null || raw === "") return 0;
  if (!CURSOR.test(raw.trim())) {
    throw new GatewayError(
      400,
      ERROR_CODE.invalidCursor,
      `Last-Event-ID must be an event number (a non-negative integer), got "${raw.slice(0, 32)}${raw.length > 32 ? "…" : ""}"`,
    );
  }
  return Number(raw.trim());
}

function streamsOf(env: Env, id: string): DurableObjectNamespace {
  if (env.STREAMS === undefined || !isStreamId(id)) throw streamNotFound();
  return env.STREAMS;
}

/** Who is asking: a valid `?token=` resume token, else the request's own credentials. */
function ownerOf(request: Request, env: Env, id: string): Promise<string> {
  if (!isStreamId(id)) throw streamNotFound();
  return streamPrincipalId(request, env, id);
}

async function call(request: Request, env: Env, id: string, op: string, method = "GET"): Promise<Response> {
  const owner = await ownerOf(request, env, id);
  return callStream(streamsOf(env, id), id, owner, op, { method });
}

/** `GET /v1/streams/{id}`: replays every event after the cursor, then follows live until the end. */
export async function handleResume(request: Request, env: Env, id: string): Promise<Response> {
  const after = cursorOf(request);
  const owner = await ownerOf(request, env, id);
  // The object's stream as it is: a client that goes away cancels it, detaching that reader there.
  return callStream(streamsOf(env, id), id, owner, `${STREAM_OBJECT.read}?after=${after}`);
}

/** `DELETE /v1/streams/{id}`: stops the generation; readers get a final cancelled event. */
export function handleCancel(request: Request, env: Env, id: string): Promise<Response> {
  return call(request, env, id, STREAM_OBJECT.cancel, "POST");
}

/** `GET /v1/streams/{id}/status`: state, event count, times, model. */
export function handleStatus(request: Request, env: Env, id: string): Promise<Response> {
  return call(request, env, id, STREAM_OBJECT.status);
}
