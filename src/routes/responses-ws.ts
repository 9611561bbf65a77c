import { buildDataPoint, locationFromCf } from "../analytics/data-point.ts";
import { StreamMetrics } from "../analytics/stream-metrics.ts";
import { assertMayUseModel } from "../auth/principal.ts";
import { gatewaySink } from "../bindings.ts";
import { configFor } from "../config.ts";
import type { Env } from "../env.ts";
import { GatewayError } from "../errors.ts";
import { requireKey } from "../exchange/attempt.ts";
import { guardPrompt } from "../guardrail/request-body.ts";
import { upstreamRequestHeaders } from "../http/upstream-headers.ts";
import { ERROR_CODE } from "../protocol.ts";
import { type ResponsesPorts, ResponsesRelay, type UpstreamSocket } from "../socket/responses-relay.ts";
import type { Provider } from "../upstream/providers.ts";
import { requireProvider } from "../upstream/providers.ts";
import { matchNative } from "../upstream/registry.ts";
import { acceptedPair, admitUpgrade, serveSocket } from "./socket-upgrade.ts";

/** The Responses path under a provider; its native endpoint says where (and in which format) it lives upstream. */
const RESPONSES_PATH = "/v1/responses";
const RESPONSES_FORMAT = "openai-responses";

/**
 * Opens the provider's Responses socket: Workers open outbound sockets with `fetch` and
 * `Upgrade: websocket`. Only the provider's key goes upstream, never the client's credentials.
 */
async function openUpstream(
  provider: Provider,
  upstreamPath: string,
  onMessage: (text: string) => void,
  onClose: () => void,
): Promise<UpstreamSocket> {
  let res: Response;
  try {
    res = await provider.transport.fetch(`${provider.baseUrl}${upstreamPath}`, {
      headers: upstreamRequestHeaders(new Headers(), provider, { upgrade: "websocket" }),
    });
  } catch {
    throw new GatewayError(
      502,
      ERROR_CODE.upstreamUnreachable,
      `provider "${provider.name}" could not be reached`,
    );
  }
  const socket = res.webSocket;
  if (socket === null) {
    res.body?.cancel().catch(() => {});
    throw new GatewayError(
      502,
      ERROR_CODE.upstreamError,
      `provider "${provider.name}" refused the WebSocket (HTTP ${res.status})`,
    );
  }
  socket.accept();
  socket.addEventListener("message", (event) => {
    if (typeof event.data === "string") onMessage(event.data);
  });
  socket.addEventListener("close", onClose);
  socket.addEventListener("error", onClose);
  return {
    send: (text) => socket.send(text),
    close: () => {
      try {
        socket.close(1000);
      } catch {
        // Already closed.
      }
    },
  };
}

/**
 * `GET /<provider>/v1/responses` with `Upgrade: websocket`: OpenAI's Responses WebSocket mode through
 * the gateway, for every provider whose family has a Responses endpoint (docs/websocket.md).
 */
export async function handleResponsesSocket(
  request: Request,
  env: Env,
  providerName: string,
): Promise<Response> {
  const { principal } = await admitUpgrade(request, env);
  const config = configFor(env);
  const provider = requireProvider(config.providers, providerName);
  const endpoint = matchNative(provider.family, RESPONSES_PATH);
  if (endpoint.format.name !== RESPONSES_FORMAT)
    throw new GatewayError(
      404,
      ERROR_CODE.notFound,
      `provider "${provider.name}" has no Responses WebSocket`,
    );
  requireKey(provider);
  const { colo, country } = locationFromCf((request as { cf?: unknown }).cf);
  const sink = gatewaySink(env);
  const { client, server } = acceptedPair();
  const ports: ResponsesPorts = {
    sendClient: (text) => server.send(text),
    closeClient: (code, reason) => server.close(code, reason),
    openUpstream: (onMessage, onClose) => openUpstream(provider, endpoint.upstreamPath, onMessage, onClose),
    guardPrompt: (body) => {
      const model = typeof body.model === "string" ? body.model : "";
      assertMayUseModel(principal, `${provider.name}/${model}`, env);
      return guardPrompt(body, config.guardrail);
    },
    record: (t) => {
      const metrics = new StreamMetrics();
      metrics.requestReceived(t.receivedAt);
      metrics.upstreamSent(t.sentAt);
      if (t.firstContentAt !== undefined) {
        metrics.firstUpstreamContent(t.firstContentAt);
        metrics.firstClientContent(t.firstContentAt + t.holdbackMs);
      }
      metrics.holdback(t.holdbackMs);
      metrics.end(t.endedAt, t.outcome);
      const meta = {
        route: `native-ws/${RESPONSES_FORMAT}`,
        provider: provider.name,
        model: `${provider.name}/${t.model}`,
        guardrail: t.guardrail,
        colo,
        country,
        principal: principal.id,
      };
      sink.write(buildDataPoint(meta, metrics.snapshot(t.endedAt)));
    },
    now: () => Date.now(),
  };
  const relay = new ResponsesRelay(ports, endpoint.format, config.guardrail, config.socket.maxMessageBytes);
  return serveSocket(
    { client, server },
    (data) => relay.fromClient(data),
    () => relay.clientClosed(),
  );
}
