import { errorBody } from "../../errors.ts";
import { ERROR_CODE } from "../../protocol.ts";
import { tryParse } from "../json.ts";
import type { Provider, Transport } from "../providers.ts";

/** The part of the Workers AI binding the gateway uses (a test hands in a fake with the same shape). */
export interface AiRunner {
  run(model: string, inputs: Record<string, unknown>): Promise<unknown>;
}

function failure(status: number, message: string): Response {
  return new Response(JSON.stringify(errorBody("openai", status, ERROR_CODE.upstreamError, message)), {
    status,
    headers: { "content-type": "application/json" },
  });
}

/**
 * Presents the AI binding as a transport: the "URL" is the model name (see the Workers AI translator),
 * a streaming run's ReadableStream becomes an SSE response and any other result a JSON response, so
 * the shared pipeline treats Workers AI like every HTTP provider.
 */
export function workersAiTransport(ai: AiRunner | undefined): Transport {
  return {
    async fetch(model, init) {
      if (ai === undefined) {
        return failure(503, 'Workers AI is not bound: add [ai] binding = "AI" to wrangler.toml');
      }
      const text =
        typeof init.body === "string" ? init.body : new TextDecoder().decode(init.body as Uint8Array);
      const inputs = tryParse(text);
      if (typeof inputs !== "object" || inputs === null) return failure(400, "invalid Workers AI input");
      let result: unknown;
      try {
        result = await ai.run(model, inputs as Record<string, unknown>);
      } catch (err) {
        // Binding errors read like "5007: No such model"; they carry no secrets, so the message is kept.
        return failure(502, err instanceof Error ? err.message.slice(0, 300) : "Workers AI run failed");
      }
      if (result instanceof ReadableStream) {
        return new Response(result, { headers: { "content-type": "text/event-stream" } });
      }
      return Response.json(result);
    },
  };
}

/** The Workers AI provider (`workers-ai/@cf/...` models), in-process through the binding. */
export function workersAiProvider(ai: AiRunner | undefined): Provider {
  return {
    name: "workers-ai",
    family: "workers-ai",
    baseUrl: "",
    apiKey: undefined,
    keySecret: undefined,
    // Without the binding every call answers 503 (see the transport), and health must say so.
    needs: ai === undefined ? "binding AI" : undefined,
    transport: workersAiTransport(ai),
  };
}
