import { describe, expect, it } from "vitest";
import { parseClassifiers } from "../../../src/guardrail/classifiers/config.ts";
import { VerdictLog } from "../../../src/guardrail/classifiers/report.ts";
import { ClassifierStep } from "../../../src/guardrail/classifiers/step.ts";
import type { BoundClassifier, ClassifyFn, ClassifyInput } from "../../../src/guardrail/classifiers/types.ts";
import { GuardrailStep } from "../../../src/guardrail/stage.ts";
import { bodySource } from "../../../src/pipeline/body-source.ts";
import { buildPipeline } from "../../../src/pipeline/build.ts";
import type { ItemStep } from "../../../src/pipeline/steps.ts";
import { StreamState } from "../../../src/pipeline/stream-state.ts";
import { SseDecoder } from "../../../src/sse/decoder.ts";
import { FORMATS } from "../../../src/upstream/registry.ts";
import { splitAt } from "../../support/fixtures.ts";
import { config } from "./support.ts";

const encoder = new TextEncoder();
const chat = FORMATS["openai-chat"];
const chunk = (content: string) =>
  `data: {"id":"c1", "choices":[{"index":0,"delta":{"content":${JSON.stringify(content)}}}]}\n\n`;
const finish = 'data: {"id":"c1", "choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n';

/** An OpenAI chat stream of `pieces`, finished and ended with `[DONE]`. */
function chatStream(pieces: readonly string[]): string {
  return [...pieces.map(chunk), finish, "data: [DONE]\n\n"].join("");
}

function spec(entry: Record<string, unknown>) {
  const parsed = parseClassifiers([{ name: "judge", kind: "http", url: "http://judge.test", ...entry }]);
  if (!parsed.ok) throw new Error(parsed.error);
  const first = parsed.value[0];
  if (first === undefined) throw new Error("no classifier");
  return first;
}

/** A body sending `bytes` in `chunks`, one per read; records whether it was cancelled. */
function upstream(chunks: readonly Uint8Array[]) {
  const seen = { cancelled: false };
  let next = 0;
  const body = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        const c = chunks[next++];
        if (c !== undefined) controller.enqueue(c);
        else controller.close();
      },
      cancel() {
        seen.cancelled = true;
      },
    },
    { highWaterMark: 0 },
  );
  return { body, seen };
}

/** The content text of a client's SSE bytes (what a chat client shows). */
function contentOf(sse: string): string {
  const d = new SseDecoder();
  let text = "";
  for (const ev of [...d.push(sse), ...d.end()]) {
    if (!ev.hasData || ev.data === "[DONE]") continue;
    const json = JSON.parse(ev.data) as { choices?: { delta?: { content?: string } }[] };
    text += json.choices?.[0]?.delta?.content ?? "";
  }
  return text;
}

interface Call {
  readonly input: ClassifyInput;
  /** What the client had received (content text) when the call was made. */
  readonly clientHad: string;
}

/**
 * Runs an OpenAI chat stream through the pipeline with the rules (`rules`) and one classifier whose
 * verdict is `judge(input)`, answered after a macrotask (so the source keeps reading meanwhile),
 * reading the client's side concurrently. Returns what the client received and every call.
 */
async function run(
  chunks: readonly Uint8Array[],
  entry: Record<string, unknown>,
  judge: (input: ClassifyInput) => boolean | "fail" | "hang",
  options: { rules?: unknown; observe?: boolean } = {},
) {
  const state = new StreamState();
  const aborted: string[] = [];
  const abortUpstream = (reason: string) => aborted.push(reason);
  const calls: Call[] = [];
  let received = "";
  let inFlight = 0;
  let mostInFlight = 0;
  const classify: ClassifyFn = (input, signal) => {
    calls.push({ input, clientHad: contentOf(received) });
    inFlight++;
    mostInFlight = Math.max(mostInFlight, inFlight);
    const verdict = judge(input);
    return new Promise((resolve) => {
      if (verdict === "hang") {
        signal.addEventListener("abort", () => resolve({ ok: false, reason: "timeout" }));
        return;
      }
      setTimeout(() => {
        inFlight--;
        resolve(
          verdict === "fail"
            ? { ok: false, reason: "http 503" }
            : { ok: true, flagged: verdict, categories: ["x"] },
        );
      });
    });
  };
  const bound: BoundClassifier = { spec: spec(entry), classify };
  const lines: string[] = [];
  const steps: ItemStep[] = [
    new GuardrailStep(config(options.rules ?? { builtins: {} }), chat, state, abortUpstream),
    new ClassifierStep([bound], {
      format: chat,
      state,
      abortUpstream,
      userText: "the question",
      observe: options.observe === true,
      log: new VerdictLog((line) => lines.push(line)),
    }),
  ];
  const { body, seen } = upstream(chunks);
  const out = buildPipeline({
    body: bodySource(body),
    format: chat,
    state,
    abortUpstream,
    steps,
    maxEventBytes: 1 << 20,
  });
  const reader = out.getReader();
  const decoder = new TextDecoder();
  for (;;) {
    const r = await reader.read();
    if (r.done) break;
    received += decoder.decode(r.value, { stream: true });
  }
  return { received, content: contentOf(received), calls, state, aborted, seen, lines, mostInFlight };
}

/** The stream's bytes cut at every one of `cuts` positions (plus a one-byte-per-read run). */
function splits(text: string): Uint8Array[][] {
  const bytes = encoder.encode(text);
  const out: Uint8Array[][] = [[bytes]];
  for (const step of [1, 7, 33, 101]) {
    const cuts: number[] = [];
    for (let p = step; p < bytes.length; p += step) cuts.push(p);
    out.push(splitAt(bytes, cuts));
  }
  return out;
}

const PIECES = Array.from({ length: 30 }, (_, i) => `word${i} ${i % 7 === 0 ? "ünï 日本 " : ""}`);
const FULL = PIECES.join("");

describe("hold mode: text reaches the client only under a verdict", () => {
  it("delivers the whole answer byte for byte when every window passes, classified before [DONE]", async () => {
    const stream = chatStream(PIECES);
    for (const chunks of splits(stream)) {
      const r = await run(chunks, { everyTokens: 5, contextTokens: 0 }, () => false);
      expect(r.received.startsWith(stream)).toBe(true);
      expect(r.calls.map((c) => c.input.text).join("")).toBe(FULL);
      // Every window's text was still held when its call was made.
      let start = 0;
      for (const c of r.calls) {
        expect(c.clientHad.length).toBeLessThanOrEqual(start);
        expect(FULL.startsWith(c.clientHad)).toBe(true);
        start += c.input.text.length;
      }
      expect(r.state.outcome).toBe("complete");
    }
  });

  it("blocks a flagged window before any of its text reaches the client, whatever the split", async () => {
    const pieces = [...PIECES.slice(0, 12), "FORBIDDEN ", ...PIECES.slice(12)];
    const full = pieces.join("");
    const at = full.indexOf("FORBIDDEN");
    for (const chunks of splits(chatStream(pieces))) {
      const r = await run(chunks, { everyTokens: 5, contextTokens: 0 }, (i) => i.text.includes("FORBIDDEN"));
      expect(r.content.includes("FORBIDDEN")).toBe(false);
      expect(full.startsWith(r.content)).toBe(true);
      // Only windows before the flagged one could have passed.
      const flagged = r.calls.find((c) => c.input.text.includes("FORBIDDEN"));
      expect(flagged).toBeDefined();
      expect(r.content.length).toBeLessThanOrEqual(at);
      expect(r.received).toContain('"finish_reason":"content_filter"');
      expect(r.received).toContain('"guardrail":{"classifier":"judge"}');
      expect(r.received).not.toContain('"finish_reason":"stop"');
      expect(r.state.outcome).toBe("blocked");
      expect(r.state.endDetail()).toBe(
        'guardrail_blocked: the answer was stopped by guardrail classifier "judge"',
      );
      expect(r.aborted).toEqual(["guardrail:judge"]);
      expect(r.lines.map((l) => JSON.parse(l).outcome)).toContain("block");
    }
  });

  it("sends the last user message and the context before each window to message-taking kinds", async () => {
    const r = await run(
      [encoder.encode(chatStream(PIECES))],
      { everyTokens: 5, contextTokens: 3 },
      () => false,
    );
    const second = r.calls[1]?.input;
    const first = r.calls[0]?.input;
    if (first === undefined || second === undefined) throw new Error("expected two calls");
    expect(second.messages[0]).toEqual({ role: "user", content: "the question" });
    const window = second.messages[1]?.content ?? "";
    // 3 tokens of context (12 chars) from the end of the first window, then the new text.
    expect(window.startsWith(first.text.slice(-12))).toBe(true);
    expect(FULL).toContain(window);
  });

  it("classifies the text the redact rules produced, never the secret", async () => {
    const secret = "sk-proj-Fake0penAIkey_unit-0123456789abcdefXYZ";
    const pieces = ["here is ", secret.slice(0, 10), secret.slice(10), " and more words follow here"];
    const r = await run([encoder.encode(chatStream(pieces))], { everyTokens: 3 }, () => false, {
      rules: { builtins: { openai_key: "redact" } },
    });
    const sent = r.calls.map((c) => JSON.stringify(c.input)).join("");
    expect(sent).not.toContain(secret.slice(0, 12));
    expect(sent).toContain("[REDACTED:openai_key]");
    expect(r.content).toBe("here is [REDACTED:openai_key] and more words follow here");
  });
});

describe("errors, the cap and the other modes", () => {
  it("lets a window pass when the classifier fails and onError is open", async () => {
    const r = await run(
      [encoder.encode(chatStream(PIECES))],
      { everyTokens: 5, onError: "open" },
      () => "fail",
    );
    expect(r.content).toBe(FULL);
    expect(r.state.outcome).toBe("complete");
    expect(new Set(r.lines.map((l) => JSON.parse(l).outcome))).toEqual(new Set(["unavailable"]));
    expect(r.state.classifiers.verdict).toBe("unavailable:judge");
  });

  it("blocks with the reason when the classifier fails and onError is closed", async () => {
    const r = await run(
      [encoder.encode(chatStream(PIECES))],
      { everyTokens: 5, onError: "closed" },
      () => "fail",
    );
    expect(r.content).toBe("");
    expect(r.state.outcome).toBe("blocked");
    expect(r.state.endDetail()).toContain(
      'guardrail classifier "judge" was unavailable (http 503) and fails closed',
    );
  });

  it("stops calling at maxCallsPerStream: open lets the rest pass, recorded once as cap", async () => {
    const r = await run(
      [encoder.encode(chatStream(PIECES))],
      { everyTokens: 2, maxCallsPerStream: 3 },
      () => false,
    );
    expect(r.calls).toHaveLength(3);
    expect(r.content).toBe(FULL);
    expect(r.lines.filter((l) => JSON.parse(l).outcome === "cap")).toHaveLength(1);
    expect(r.state.classifiers.calls).toBe(3);
  });

  it("blocks at the cap when onError is closed", async () => {
    const r = await run(
      [encoder.encode(chatStream(PIECES))],
      { everyTokens: 2, maxCallsPerStream: 3, onError: "closed" },
      () => false,
    );
    expect(r.calls).toHaveLength(3);
    expect(r.state.outcome).toBe("blocked");
    expect(r.state.endDetail()).toContain("reached its cap of 3 calls per stream");
    expect(FULL.startsWith(r.content)).toBe(true);
    expect(r.content.length).toBeLessThan(FULL.length);
  });

  it("never has more than maxConcurrent calls in flight, and reads on while they run", async () => {
    const r = await run(
      [encoder.encode(chatStream(PIECES))],
      { everyTokens: 1, maxConcurrent: 2 },
      () => false,
    );
    expect(r.mostInFlight).toBe(2);
    expect(r.content).toBe(FULL);
  });

  it("async mode lets text flow and ends the stream when the verdict arrives", async () => {
    const pieces = [...PIECES.slice(0, 5), "FORBIDDEN ", ...PIECES.slice(5)];
    const r = await run(
      [encoder.encode(chatStream(pieces))],
      { mode: "async", everyTokens: 5, contextTokens: 0 },
      (i) => i.text.includes("FORBIDDEN"),
    );
    // The text flowed (the client may have shown it); the end is the block's, and the upstream's own
    // [DONE] never reached the client: only the block's ending follows the upstream's last chunk.
    expect(r.content).toBe(pieces.join(""));
    expect(r.state.outcome).toBe("blocked");
    const tail = r.received.slice(r.received.indexOf('"finish_reason":"stop"'));
    expect(tail).toContain('"guardrail":{"classifier":"judge"}');
    expect(tail.match(/data: \[DONE\]/g)).toHaveLength(1);
    expect(tail.indexOf("[DONE]")).toBeGreaterThan(tail.indexOf('"classifier":"judge"'));
  });

  it("action flag records the verdict and changes nothing", async () => {
    const stream = chatStream(PIECES);
    const r = await run([encoder.encode(stream)], { action: "flag", everyTokens: 5 }, () => true);
    expect(r.received.startsWith(stream)).toBe(true);
    expect(r.state.outcome).toBe("complete");
    expect(r.state.classifiers.verdict).toBe("flag:judge");
  });

  it("observe mode runs a blocking classifier as async flag: it never blocks", async () => {
    const stream = chatStream(PIECES);
    const r = await run([encoder.encode(stream)], { everyTokens: 5 }, () => true, { observe: true });
    expect(r.received.startsWith(stream)).toBe(true);
    expect(r.state.outcome).toBe("complete");
    expect(r.lines.map((l) => JSON.parse(l).outcome)).toContain("flag");
  });
});
