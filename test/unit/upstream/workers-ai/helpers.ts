import { SseDecoder } from "../../../../src/sse/decoder.ts";
import type { SseEvent } from "../../../../src/sse/types.ts";
import type { ChatUsage } from "../../../../src/upstream/openai-chat/types.ts";
import type { ChunkIdentity, StreamTranslator, TranslateStep } from "../../../../src/upstream/translator.ts";
import { decodedText, readFixture } from "../../../support/fixtures.ts";

// The OpenAI-side reassembly is the same for every translator; the Gemini helpers own it.
export { collect } from "../gemini/helpers.ts";

/** The one recorded Workers AI stream. */
export const WORKERS_AI_FIXTURE = "cloudflare/workers-ai-llama-text.sse";

/** A chunk identity for tests. */
export function identity(includeUsage: boolean, id = "chatcmpl-test"): ChunkIdentity {
  return { id, created: 1_700_000_000, model: "workers-ai/@cf/meta/llama-3.1-8b-instruct", includeUsage };
}

/** Decodes SSE text with the real decoder (pushed whole, then ended). */
export function decodeText(text: string): SseEvent[] {
  const decoder = new SseDecoder();
  return [...decoder.push(text), ...decoder.end()];
}

/** Workers AI framed events (LF, data only) for the given payloads; strings are sent as they are. */
export function events(...payloads: unknown[]): SseEvent[] {
  return decodeText(
    payloads.map((p) => `data: ${typeof p === "string" ? p : JSON.stringify(p)}\n\n`).join(""),
  );
}

/** Runs events through a translator, then ends it. */
export function translate(t: StreamTranslator, evs: readonly SseEvent[], cleanEof = true): TranslateStep[] {
  const steps: TranslateStep[] = [];
  for (const ev of evs) steps.push(...t.push(ev));
  steps.push(...t.end(cleanEof));
  return steps;
}

/** What the fixture says, read naively from its raw text (not through the code under test). */
export function expectedSummary(): {
  content: string;
  usage: ChatUsage | undefined;
  hasDone: boolean;
  dataEvents: number;
} {
  let content = "";
  let usage: ChatUsage | undefined;
  let hasDone = false;
  let dataEvents = 0;
  for (const block of decodedText(readFixture(WORKERS_AI_FIXTURE)).split("\n\n")) {
    if (!block.startsWith("data: ")) continue;
    dataEvents++;
    const data = block.slice("data: ".length);
    if (data === "[DONE]") {
      hasDone = true;
      continue;
    }
    const json = JSON.parse(data) as { response?: unknown; usage?: ChatUsage };
    if (typeof json.response === "string") content += json.response;
    if (json.usage !== undefined) usage = json.usage;
  }
  return { content, usage, hasDone, dataEvents };
}
