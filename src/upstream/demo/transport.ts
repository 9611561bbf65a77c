import { errorBody } from "../../errors.ts";
import { ERROR_CODE } from "../../protocol.ts";
import { arr, isObject, num, str, tryParse } from "../json.ts";
import type { Provider, Transport } from "../providers.ts";
import { probeStream } from "./probe.ts";
import { PROBE_MODEL, parseProbeParams } from "./probe-params.ts";
import { DEMO_MODELS, tokenize } from "./script.ts";

/** Pace of the demo answer: a first-token wait, then one token per interval. */
export interface DemoPace {
  readonly firstTokenMs: number;
  readonly intervalMs: number;
}

const encoder = new TextEncoder();

function sse(obj: unknown): Uint8Array {
  return encoder.encode(`data: ${JSON.stringify(obj)}\n\n`);
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0 || signal?.aborted) return resolve();
    // The listener goes when the timer fires: a long answer would otherwise pile one up per token.
    const onAbort = () => {
      clearTimeout(t);
      resolve();
    };
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function jsonResponse(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

/** Text of the last user message, whether given as a string or as content parts. */
function lastUserText(messages: readonly unknown[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (!isObject(m) || m.role !== "user") continue;
    if (typeof m.content === "string") return m.content;
    return arr(m, "content")
      .map((p) => (isObject(p) ? (str(p, "text") ?? "") : ""))
      .join("");
  }
  return "";
}

/**
 * An OpenAI-compatible Chat Completions server running inside the worker: it streams a deterministic
 * answer in `chat.completion.chunk` events (with `[DONE]` and, when asked, a usage chunk) at a
 * realistic pace, or returns one `chat.completion` when `stream` is false.
 */
export function demoTransport(pace: DemoPace): Transport {
  return {
    async fetch(_url, init) {
      const body = tryParse(
        typeof init.body === "string" ? init.body : new TextDecoder().decode(init.body as Uint8Array),
      );
      if (!isObject(body))
        return jsonResponse(400, errorBody("openai", 400, ERROR_CODE.invalidJson, "invalid JSON"));
      const model = str(body, "model") ?? "";
      const answer = DEMO_MODELS[model];
      if (answer === undefined) {
        const names = Object.keys(DEMO_MODELS).join(", ");
        return jsonResponse(
          404,
          errorBody(
            "openai",
            404,
            ERROR_CODE.modelNotFound,
            `demo model "${model.slice(0, 64)}" not found; try ${names}`,
          ),
        );
      }
      // The probe's parameters are checked whether or not it streams, so a mistake never goes unnoticed.
      const probe = model === PROBE_MODEL ? parseProbeParams(body) : undefined;
      if (probe !== undefined && !probe.ok)
        return jsonResponse(400, errorBody("openai", 400, ERROR_CODE.invalidRequest, probe.message));
      const all = tokenize(answer(lastUserText(arr(body, "messages"))));
      const max = num(body, "max_completion_tokens") ?? num(body, "max_tokens");
      const tokens = max !== undefined && max >= 0 ? all.slice(0, max) : all;
      const finish = tokens.length < all.length ? "length" : "stop";
      const promptTokens = Math.max(1, Math.ceil(JSON.stringify(arr(body, "messages")).length / 4));
      const usage = {
        prompt_tokens: promptTokens,
        completion_tokens: tokens.length,
        total_tokens: promptTokens + tokens.length,
      };
      const id = `chatcmpl-demo-${crypto.randomUUID()}`;
      const created = Math.floor(Date.now() / 1000);
      const base = { id, object: "chat.completion.chunk", created, model };
      if (body.stream !== true) {
        return jsonResponse(200, {
          id,
          object: "chat.completion",
          created,
          model,
          choices: [
            { index: 0, message: { role: "assistant", content: tokens.join("") }, finish_reason: finish },
          ],
          usage,
        });
      }
      const includeUsage = isObject(body.stream_options) && body.stream_options.include_usage === true;
      const signal = init.signal ?? undefined;
      if (probe?.ok) {
        // The probe keeps its own cadence (the request's), not the demo pace: its timing is the point.
        const events = probe.params.events;
        const probeUsage = { ...usage, completion_tokens: events, total_tokens: promptTokens + events };
        const stream = probeStream({
          base,
          params: probe.params,
          usage: includeUsage ? probeUsage : undefined,
          signal,
          sleep,
        });
        return new Response(stream, { status: 200, headers: { "content-type": "text/event-stream" } });
      }
      let cancelled = false;
      const stream = new ReadableStream<Uint8Array>({
        cancel() {
          cancelled = true;
        },
        async start(controller) {
          controller.enqueue(
            sse({
              ...base,
              choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }],
            }),
          );
          for (const [i, token] of tokens.entries()) {
            await sleep(i === 0 ? pace.firstTokenMs : pace.intervalMs, signal);
            if (signal?.aborted || cancelled) return;
            controller.enqueue(
              sse({ ...base, choices: [{ index: 0, delta: { content: token }, finish_reason: null }] }),
            );
          }
          controller.enqueue(sse({ ...base, choices: [{ index: 0, delta: {}, finish_reason: finish }] }));
          if (includeUsage) controller.enqueue(sse({ ...base, choices: [], usage }));
          controller.enqueue(encoder.encode("data: [DONE]\n\n"));
          controller.close();
        },
      });
      return new Response(stream, { status: 200, headers: { "content-type": "text/event-stream" } });
    },
  };
}

/** The demo provider: OpenAI-compatible, in-process, needs no key and no network. */
export function demoProvider(pace: DemoPace): Provider {
  return {
    name: "demo",
    family: "openai",
    baseUrl: "https://demo.invalid/v1",
    apiKey: undefined,
    keySecret: undefined,
    needs: undefined,
    transport: demoTransport(pace),
  };
}
