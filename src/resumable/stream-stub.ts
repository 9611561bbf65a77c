import { objectNameOf } from "./stream-id.ts";
import { STREAM_OBJECT } from "./wire.ts";

/** The Durable Object that holds stream `id`: its host, or its own object for ids minted before hosts. */
export function streamStub(streams: DurableObjectNamespace, id: string): DurableObjectStub {
  return streams.get(streams.idFromName(objectNameOf(id)));
}

/** Calls operation `op` (a STREAM_OBJECT path, with its query) of stream `id` on behalf of `owner`. */
export function callStream(
  streams: DurableObjectNamespace,
  id: string,
  owner: string,
  op: string,
  init: { readonly method?: string; readonly body?: string } = {},
): Promise<Response> {
  return streamStub(streams, id).fetch(`${STREAM_OBJECT.origin}${op}`, {
    ...init,
    headers: { [STREAM_OBJECT.ownerHeader]: owner, [STREAM_OBJECT.streamHeader]: id },
  });
}
