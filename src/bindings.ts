import { analyticsEngineSink, logSink, type MetricsSink, teeSink } from "./analytics/sink.ts";
import type { Principal } from "./auth/principal.ts";
import { resumeTokenFor } from "./auth/stream-access.ts";
import { configFor } from "./config.ts";
import type { Env } from "./env.ts";
import { CircuitBreakers } from "./exchange/circuit.ts";
import type { ExchangeContext, StreamHost } from "./exchange/context.ts";
import { principalSlots } from "./quota/slots.ts";
import { ChatLinks } from "./resumable/chat-links.ts";

/** Where data points go: Analytics Engine (the `TTFT` binding) and one structured log line each. */
export function gatewaySink(env: Env): MetricsSink {
  return teeSink(analyticsEngineSink(env.TTFT), logSink());
}

// The env object is the same for every request of an isolate: one context per isolate.
const contexts = new WeakMap<Env, ExchangeContext>();

/** What an exchange needs from this Worker's environment: settings, the metrics sink, the quota. */
export function exchangeContext(env: Env): ExchangeContext {
  let ctx = contexts.get(env);
  if (ctx === undefined) {
    const config = configFor(env);
    const { circuitFailures, circuitCooldownMs } = config.resilience;
    ctx = {
      config,
      sink: gatewaySink(env),
      slots: principalSlots(env.PRINCIPALS, config.maxOpenStreams),
      circuits: new CircuitBreakers(circuitFailures, circuitCooldownMs),
    };
    contexts.set(env, ctx);
  }
  return ctx;
}

/** Where `principal`'s resumable streams live, or undefined without the `STREAMS` binding. */
export function streamHost(env: Env, principal: Principal): StreamHost | undefined {
  const streams = env.STREAMS;
  if (streams === undefined) return undefined;
  return { streams, resumeToken: (streamId) => resumeTokenFor(env, streamId, principal) };
}

/**
 * The chat objects that let `useChat` reconnect by chat id, or undefined when streams are not
 * resumable here (no `CHATS` or `STREAMS` binding, or `RESUMABLE=false`): then nothing is recorded.
 */
export function chatLinks(env: Env): ChatLinks | undefined {
  if (env.CHATS === undefined || env.STREAMS === undefined || !exchangeContext(env).config.resumable)
    return undefined;
  return new ChatLinks(env.CHATS);
}
