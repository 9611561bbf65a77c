import { describe, expect, it } from "vitest";
import { guardAnswerBody } from "../../../src/guardrail/answer-guard.ts";
import { scanText } from "../../../src/guardrail/index.ts";
import { guardJsonAnswer } from "../../../src/guardrail/json-answer.ts";
import { StreamState } from "../../../src/pipeline/stream-state.ts";
import type { FormatName, WireFormat } from "../../../src/upstream/format.ts";
import { FORMATS } from "../../../src/upstream/registry.ts";
import { config } from "./support.ts";

/** Fake, format-valid secrets: a Luhn-valid test card and an OpenAI-style key. */
const CARD = "4111 1111 1111 1111";
const KEY = "sk-proj-Fake0penAIkey_UNIT-0123456789abcdefXYZ";
const SECRETS = [CARD, KEY];
/** The answer text every slot carries: a card, a key and an e-mail address (flag only). */
const T = `Card ${CARD} and key ${KEY}, mail jane.fake@example.org.`;
const REDACTED = T.replace(CARD, "[REDACTED:payment_card]").replace(KEY, "[REDACTED:openai_key]");

/** What the first of two pieces cut inside the card becomes: the mask goes where the match starts. */
const SPLIT_HEAD = "Card [REDACTED:payment_card]";

const REDACT = config({ builtins: { payment_card: "redact", openai_key: "redact", email: "flag" } });
/** The configuration of issue #12: cards blocked, the rest at their defaults (keys redacted). */
const BLOCK = config({ builtins: { payment_card: "block" } });
const FLAG = config({ builtins: { payment_card: "flag", openai_key: "flag", email: "flag" } });
const OBSERVE = config({ builtins: { payment_card: "block", openai_key: "redact" } }, "observe");
const OFF = config({ builtins: { payment_card: "block", openai_key: "block" } }, "off");

type Json = Record<string, unknown>;

/** `value` with every secret replaced by its mask, everything else as it was. */
function masked(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value)
      .replaceAll(CARD, "[REDACTED:payment_card]")
      .replaceAll(KEY, "[REDACTED:openai_key]"),
  );
}

/** Fails when any 6-character piece of a secret is anywhere in `json`, serialized. */
function expectNoSecret(json: unknown): void {
  const text = JSON.stringify(json);
  const pieces = SECRETS.flatMap((s) => [...Array(s.length - 5).keys()].map((i) => s.slice(i, i + 6)));
  expect(pieces.filter((p) => text.includes(p))).toEqual([]);
}

interface Case {
  readonly format: FormatName;
  readonly name: string;
  readonly answer: () => Json;
  /** The channels its verdicts name (those a stream of the same answer uses). */
  readonly channels: readonly string[];
  /** The answer once redacted, when it is not just `masked(answer)` (fields dropped with the old text). */
  readonly redacted?: (answer: Json) => unknown;
  /** Checks the blocked answer's shape fields. */
  readonly blocked: (json: Json) => void;
}

const chatBlocked = (json: Json) =>
  expect(json).toMatchObject({
    id: "chatcmpl-1",
    object: "chat.completion",
    choices: [{ index: 0, message: { role: "assistant", content: null }, finish_reason: "content_filter" }],
    guardrail: { rule: "payment_card" },
  });

const CASES: readonly Case[] = [
  {
    format: "openai-chat",
    name: "chat completion: content, reasoning, tool-call arguments",
    answer: () => ({
      id: "chatcmpl-1",
      object: "chat.completion",
      created: 1,
      model: "gpt-unit",
      choices: [
        {
          index: 0,
          message: {
            role: "assistant",
            content: T,
            refusal: null,
            reasoning_content: T,
            tool_calls: [
              {
                id: "call_1",
                type: "function",
                function: { name: "save", arguments: JSON.stringify({ notes: T }) },
              },
            ],
          },
          logprobs: { content: [{ token: "Card", logprob: -0.1, bytes: [67, 97, 114, 100] }] },
          finish_reason: "tool_calls",
        },
      ],
      usage: { prompt_tokens: 3, completion_tokens: 9, total_tokens: 12 },
    }),
    channels: ["c0/content", "c0/reasoning_content", "c0/tool0/args"],
    // Log-probabilities spell out the original tokens: a redacted choice loses them.
    redacted: (a) => {
      const m = masked(a) as { choices: Json[] };
      for (const c of m.choices) c.logprobs = null;
      return m;
    },
    blocked: chatBlocked,
  },
  {
    format: "openai-chat",
    name: "chat completion with content-part arrays (one channel, as a stream's deltas)",
    answer: () => ({
      id: "chatcmpl-1",
      object: "chat.completion",
      choices: [
        {
          index: 0,
          message: {
            role: "assistant",
            content: [
              { type: "text", text: T.slice(0, 10) },
              { type: "text", text: T.slice(10) },
            ],
          },
          finish_reason: "stop",
        },
      ],
    }),
    channels: ["c0/content"],
    redacted: (a) => {
      const m = masked(a) as { choices: { message: { content: { text: string }[] } }[] };
      // The card starts in the first part and ends in the second: the mask sits where it started.
      const [first, second] = m.choices[0]?.message.content ?? [];
      if (first === undefined || second === undefined) throw new Error("two parts expected");
      first.text = SPLIT_HEAD;
      second.text = REDACTED.slice(SPLIT_HEAD.length);
      return m;
    },
    blocked: chatBlocked,
  },
  {
    format: "openai-responses",
    name: "Responses: reasoning summary, output_text, function_call arguments",
    answer: () => ({
      id: "resp_1",
      object: "response",
      created_at: 1,
      status: "completed",
      model: "o-unit",
      tools: [],
      output: [
        { id: "rs_1", type: "reasoning", summary: [{ type: "summary_text", text: T }] },
        {
          id: "msg_1",
          type: "message",
          status: "completed",
          role: "assistant",
          content: [
            { type: "output_text", text: T, annotations: [], logprobs: [{ token: "Card", logprob: 0 }] },
          ],
        },
        {
          id: "fc_1",
          type: "function_call",
          call_id: "call_1",
          name: "save",
          arguments: JSON.stringify({ notes: T }),
          status: "completed",
        },
      ],
      usage: { input_tokens: 3, output_tokens: 9, total_tokens: 12 },
    }),
    channels: ["o0/summary0/text", "o1/content0/text", "o2/arguments"],
    redacted: (a) => {
      const m = masked(a) as { output: { content?: Json[] }[] };
      const part = m.output[1]?.content?.[0];
      if (part !== undefined) part.logprobs = [];
      return m;
    },
    blocked: (json) => {
      expect(json).toMatchObject({
        id: "resp_1",
        object: "response",
        status: "incomplete",
        incomplete_details: { reason: "content_filter" },
        output: [],
        tools: [],
        usage: { input_tokens: 3 },
        guardrail: { rule: "payment_card" },
      });
    },
  },
  {
    format: "anthropic",
    name: "Anthropic message: thinking, text with a citation, tool_use input (an object)",
    answer: () => ({
      id: "msg_1",
      type: "message",
      role: "assistant",
      model: "claude-unit",
      content: [
        { type: "thinking", thinking: T, signature: "c2lnbmF0dXJl" },
        { type: "text", text: T, citations: [{ type: "char_location", cited_text: T, document_index: 0 }] },
        {
          type: "tool_use",
          id: "toolu_1",
          name: "save",
          input: { notes: T, nested: { list: [T, 3, true] } },
        },
      ],
      stop_reason: "tool_use",
      stop_sequence: null,
      usage: { input_tokens: 3, output_tokens: 9 },
    }),
    channels: ["b0/thinking", "b1/text", "b1/citation", "b2/input.notes", "b2/input.nested.list[0]"],
    blocked: (json) => {
      expect(json).toMatchObject({
        id: "msg_1",
        type: "message",
        role: "assistant",
        content: [],
        stop_reason: "refusal",
        usage: { output_tokens: 9 },
      });
      expect(JSON.stringify(json)).toContain("payment_card");
    },
  },
  {
    format: "gemini",
    name: "Gemini generateContent: thought, text split over two parts, functionCall args, code",
    answer: () => ({
      candidates: [
        {
          content: {
            role: "model",
            parts: [
              { text: T, thought: true },
              // Cut inside the card: one channel, so the stream's scan (and this one) still sees it whole.
              { text: T.slice(0, 12) },
              { text: T.slice(12) },
              { functionCall: { name: "save", args: { notes: T } } },
              { executableCode: { language: "PYTHON", code: `print(${JSON.stringify(T)})` } },
            ],
          },
          finishReason: "STOP",
          index: 0,
        },
      ],
      usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 9, totalTokenCount: 12 },
      modelVersion: "gemini-unit",
      responseId: "r1",
    }),
    channels: ["c0/thought", "c0/text", "c0/call3.notes", "c0/code4"],
    redacted: (a) => {
      const m = masked(a) as { candidates: { content: { parts: { text?: string }[] } }[] };
      const [, first, second] = m.candidates[0]?.content.parts ?? [];
      if (first === undefined || second === undefined) throw new Error("two text parts expected");
      first.text = SPLIT_HEAD;
      second.text = REDACTED.slice(SPLIT_HEAD.length);
      return m;
    },
    blocked: (json) => {
      expect(json).toMatchObject({
        candidates: [{ content: { parts: [], role: "model" }, finishReason: "SAFETY", index: 0 }],
        usageMetadata: { totalTokenCount: 12 },
        responseId: "r1",
      });
    },
  },
  {
    format: "workers-ai",
    name: "Workers AI native result: response and tool-call arguments (an object)",
    answer: () => ({
      response: T,
      tool_calls: [{ name: "save", arguments: { notes: T } }],
      usage: { prompt_tokens: 3, completion_tokens: 9, total_tokens: 12 },
    }),
    channels: ["c0/content", "c0/tool0/args.notes"],
    blocked: (json) => {
      expect(json).toEqual({
        response: "",
        finish_reason: "content_filter",
        usage: { prompt_tokens: 3, completion_tokens: 9, total_tokens: 12 },
        guardrail: { rule: "payment_card" },
      });
    },
  },
  {
    format: "openai-chat",
    name: "an unexpected shape: every string is scanned, wherever it is",
    answer: () => ({ result: { answers: [{ say: T }], note: T } }),
    channels: ["result.answers[0].say", "result.note"],
    // Blocked in the route's own format: there is nothing else the client could parse.
    blocked: (json) => {
      expect(json).toEqual({
        object: "chat.completion",
        choices: [
          {
            index: 0,
            message: { role: "assistant", content: null, refusal: null },
            logprobs: null,
            finish_reason: "content_filter",
          },
        ],
        guardrail: { rule: "payment_card" },
      });
    },
  },
];

function format(name: FormatName): WireFormat {
  return FORMATS[name];
}

describe("guardJsonAnswer: a whole JSON answer gets the rules a stream gets", () => {
  for (const c of CASES) {
    describe(c.name, () => {
      it("redacts every text slot in place, in the format's own shape, and nothing else", () => {
        const answer = c.answer();
        const before = JSON.stringify(answer);
        const result = guardJsonAnswer(format(c.format), REDACT, answer);
        expect(result.changed).toBe(true);
        expect(result.blockedRule).toBeUndefined();
        expectNoSecret(result.json);
        expect(result.json).toEqual((c.redacted ?? masked)(answer));
        // The caller's parsed value is left as it was.
        expect(JSON.stringify(answer)).toBe(before);
        expect([...new Set(result.verdicts.map((v) => v.channel))]).toEqual(c.channels);
        expect(new Set(result.verdicts.map((v) => `${v.rule}:${v.action}`))).toEqual(
          new Set(["payment_card:redact", "openai_key:redact", "email:flag"]),
        );
      });

      it("blocks with the format's content-filter answer, no text of the answer left in it", () => {
        const result = guardJsonAnswer(format(c.format), BLOCK, c.answer());
        expect(result.changed).toBe(true);
        expect(result.blockedRule).toBe("payment_card");
        expectNoSecret(result.json);
        expect(JSON.stringify(result.json)).not.toContain("jane.fake");
        expect(JSON.stringify(result.json)).not.toContain("Card ");
        c.blocked(result.json as Json);
      });

      it("flag records verdicts and changes nothing", () => {
        const answer = c.answer();
        const result = guardJsonAnswer(format(c.format), FLAG, answer);
        expect(result).toMatchObject({ changed: false, blockedRule: undefined });
        expect(result.json).toBe(answer);
        expect(result.verdicts.map((v) => v.action)).toContain("flag");
        expect(result.verdicts.every((v) => v.action === "flag")).toBe(true);
      });

      it("observe records the block and redact verdicts and changes nothing", () => {
        const answer = c.answer();
        const result = guardJsonAnswer(format(c.format), OBSERVE, answer);
        expect(result).toMatchObject({ changed: false, blockedRule: undefined });
        expect(result.json).toBe(answer);
        // The e-mail address keeps its default action, flag.
        expect(new Set(result.verdicts.map((v) => v.action))).toEqual(new Set(["block", "redact", "flag"]));
      });

      it("off reads nothing", () => {
        const answer = c.answer();
        expect(guardJsonAnswer(format(c.format), OFF, answer)).toEqual({
          changed: false,
          json: answer,
          verdicts: [],
          blockedRule: undefined,
        });
      });
    });
  }

  it("redacts each slot exactly as the whole-text reference scan (what a stream of it yields)", () => {
    const answer = CASES[0]?.answer() ?? {};
    const result = guardJsonAnswer(format("openai-chat"), REDACT, answer);
    const content = (result.json as { choices: { message: { content: string } }[] }).choices[0]?.message
      .content;
    expect(content).toBe(scanText(REDACT, T, "c0/content").redacted);
    expect(content).toBe(REDACTED);
  });

  it("keeps the first block in document order when several rules block", () => {
    const cfg = config({ builtins: { payment_card: "block", openai_key: "block" } });
    const answer = { choices: [{ index: 0, message: { content: `key ${KEY} then card ${CARD}` } }] };
    expect(guardJsonAnswer(format("openai-chat"), cfg, answer).blockedRule).toBe("openai_key");
  });

  it("blocks a Gemini answer per candidate, every candidate emptied", () => {
    const answer = {
      candidates: [
        { content: { parts: [{ text: "fine" }] }, index: 0 },
        { content: { parts: [{ text: T }] }, index: 1 },
      ],
    };
    const json = guardJsonAnswer(format("gemini"), BLOCK, answer).json as { candidates: Json[] };
    expect(json.candidates.map((c) => [c.index, c.finishReason, c.content])).toEqual([
      [0, "SAFETY", { parts: [], role: "model" }],
      [1, "SAFETY", { parts: [], role: "model" }],
    ]);
  });

  it("passes an answer with no text (a refused Gemini prompt, an empty object) unchanged", () => {
    for (const [name, answer] of [
      ["gemini", { promptFeedback: { blockReason: "SAFETY" } }],
      ["anthropic", {}],
    ] as const) {
      const result = guardJsonAnswer(format(name), BLOCK, answer);
      expect(result).toEqual({ changed: false, json: answer, verdicts: [], blockedRule: undefined });
    }
  });
});

describe("guardAnswerBody: the bytes a native client receives", () => {
  const bytes = (text: string) => new TextEncoder().encode(text);
  const chat = (content: string) =>
    `{"id":"chatcmpl-1", "object":"chat.completion", "choices":[{"index":0, "message":{"role":"assistant", "content":${JSON.stringify(content)}}, "finish_reason":"stop"}]}`;

  it("sends the upstream's exact bytes when nothing changed, even with matches to flag", () => {
    const body = bytes(chat("Mail jane.fake@example.org, nothing secret."));
    const state = new StreamState();
    const result = guardAnswerBody(body, format("openai-chat"), REDACT, state);
    expect(result).toEqual({ ok: true, body });
    if (result.ok) expect(result.body).toBe(body);
    expect(state.guardrail).toBe("flag:email");
  });

  it("re-serializes a redacted answer, and records the verdict", () => {
    const state = new StreamState();
    const result = guardAnswerBody(bytes(chat(T)), format("openai-chat"), REDACT, state);
    expect(result.ok).toBe(true);
    const sent = result.ok && typeof result.body === "string" ? result.body : "";
    expect(JSON.parse(sent)).toMatchObject({ choices: [{ message: { content: REDACTED } }] });
    expect(state.guardrail).toMatch(/^redact:(payment_card|openai_key)$/);
  });

  it("answers a blocked answer in the format's shape and records the rule", () => {
    const state = new StreamState();
    const result = guardAnswerBody(bytes(chat(T)), format("openai-chat"), BLOCK, state);
    const sent = result.ok && typeof result.body === "string" ? result.body : "";
    expect(sent).not.toContain(CARD);
    expect(JSON.parse(sent)).toMatchObject({ choices: [{ finish_reason: "content_filter" }] });
    expect(state).toMatchObject({ guardrail: "block:payment_card", blockedRule: "payment_card" });
  });

  it("refuses a body that is not JSON, or not UTF-8, and passes an empty one", () => {
    const f = format("anthropic");
    expect(guardAnswerBody(bytes(`<html>${T}</html>`), f, REDACT, new StreamState())).toEqual({ ok: false });
    expect(guardAnswerBody(new Uint8Array([0x7b, 0xff, 0x7d]), f, REDACT, new StreamState())).toEqual({
      ok: false,
    });
    const empty = new Uint8Array();
    expect(guardAnswerBody(empty, f, REDACT, new StreamState())).toEqual({ ok: true, body: empty });
  });
});
