import { afterEach, describe, expect, it, vi } from "vitest";
import { bodySource } from "../../../src/pipeline/body-source.ts";
import { buildPipeline } from "../../../src/pipeline/build.ts";
import { StreamState } from "../../../src/pipeline/stream-state.ts";
import { Translation } from "../../../src/pipeline/translation.ts";
import { SseDecoder } from "../../../src/sse/decoder.ts";
import { anthropicTranslator } from "../../../src/upstream/anthropic/chat-translator.ts";
import { geminiTranslator } from "../../../src/upstream/gemini/translator.ts";
import { openAiChatFormat } from "../../../src/upstream/openai-chat/format.ts";
import type { ChatTranslator } from "../../../src/upstream/translator.ts";
import { workersAiTranslator } from "../../../src/upstream/workers-ai/translator.ts";
import { decodeAll, fixtureNames, readFixture } from "../../support/fixtures.ts";

// A translation builds each OpenAI chunk as an object and serializes it once. It hands on what the
// inspector needs (EventInfo) read from that object, so the chunk is never parsed back from the JSON
// it was just written as, and the inspector records exactly what parsing it would have given.

const IDENTITY = { id: "chatcmpl-t", created: 1_700_000_000, model: "p/m", includeUsage: true };

/** The translator of every recorded provider family that the gateway translates into OpenAI chunks. */
const FAMILIES: readonly { dir: string; translator: ChatTranslator }[] = [
  { dir: "anthropic/", translator: anthropicTranslator },
  { dir: "gemini/", translator: geminiTranslator },
  { dir: "cloudflare/", translator: workersAiTranslator },
];

const CASES = FAMILIES.flatMap(({ dir, translator }) =>
  fixtureNames()
    .filter((name) => name.startsWith(dir))
    .map((name) => ({ name, translator })),
);

afterEach(() => {
  vi.restoreAllMocks();
});

describe("what a translation knows of the chunks it writes", () => {
  it("covers a recorded stream of every translated family", () => {
    expect(new Set(CASES.map((c) => c.translator)).size).toBe(FAMILIES.length);
  });

  it.each(CASES)(
    "$name: is what inspecting the written chunk gives, for every chunk",
    async ({ name, translator }) => {
      const translation = new Translation(translator.createStream(IDENTITY), openAiChatFormat);
      const out = (await decodeAll([readFixture(name)])).flatMap((ev) => translation.push(ev));
      out.push(...translation.end(new StreamState()));
      const chunks = out.filter((t) => t.info !== undefined);
      expect(chunks.length).toBeGreaterThan(0);
      for (const { ev, info } of chunks) expect(info, ev.raw).toEqual(openAiChatFormat.inspect(ev));
    },
  );

  it("lets the pipeline send a translated stream without parsing one chunk it wrote", async () => {
    const bytes = readFixture("anthropic/messages-thinking-then-text-118-events.sse");
    const parsed: string[] = [];
    const parse = JSON.parse;
    vi.spyOn(JSON, "parse").mockImplementation((text: string, reviver?: Parameters<typeof parse>[1]) => {
      parsed.push(text);
      return parse(text, reviver);
    });
    const state = new StreamState();
    const body = new Response(bytes).body;
    if (body === null) throw new Error("no body");
    const out = buildPipeline({
      body: bodySource(body),
      format: openAiChatFormat,
      state,
      abortUpstream: () => {},
      translate: new Translation(anthropicTranslator.createStream(IDENTITY), openAiChatFormat),
      maxEventBytes: 8 * 1024 * 1024,
    });
    const text = await new Response(out).text();
    vi.restoreAllMocks();
    const decoder = new SseDecoder();
    const sent = [...decoder.push(text), ...decoder.end()].filter((ev) => ev.hasData && ev.data !== "[DONE]");
    expect(sent.length).toBeGreaterThan(50);
    // The upstream's own events are parsed (by the translator, once each); none of the chunks sent is.
    const written = new Set(sent.map((ev) => ev.data));
    expect(parsed.filter((p) => written.has(p))).toEqual([]);
    expect(parsed.length).toBeGreaterThan(0);
    // And the inspector still recorded the stream as parsing would have: a normal end, the usage.
    expect(state.completeSeen).toBe(true);
    expect(state.outcome).toBe("complete");
    expect(state.outputTokens).toBeGreaterThan(0);
  });
});
