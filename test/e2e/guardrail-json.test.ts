import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { type LocalGateway, startGateway } from "../support/gateway.ts";
import { MockUpstream } from "../support/mock-upstream.ts";
import { maskOf, SECRETS, secretPieces, stringsOf, until } from "./guardrail-support.ts";

/**
 * Non-streaming answers (issue #12, item 2): every JSON answer, native or translated, gets the output
 * rules a stream gets, in the client's own format. Four deployments, four small workerd instances.
 */
const mock = new MockUpstream();
/** `enforce` with the default rules: keys and cards redacted, e-mail and phone flagged. */
let redacting: LocalGateway;
/** `enforce` with the configuration of issue #12: `{"builtins":{"payment_card":"block"}}`. */
let blocking: LocalGateway;
/** `observe` with the same rules: verdicts only. */
let observing: LocalGateway;
/** `off` with the same rules: the answer is not even read. */
let off: LocalGateway;

const BLOCK_CARDS = JSON.stringify({ builtins: { payment_card: "block" } });

beforeAll(async () => {
  await mock.start();
  const upstreams = {
    OPENAI_BASE_URL: `${mock.baseUrl}/openai/v1`,
    ANTHROPIC_BASE_URL: `${mock.baseUrl}/anthropic`,
    GEMINI_BASE_URL: `${mock.baseUrl}/gemini`,
    OPENAI_API_KEY: "sk-e2e-openai",
    ANTHROPIC_API_KEY: "sk-ant-e2e",
    GEMINI_API_KEY: "AIza-e2e",
  };
  [redacting, blocking, observing, off] = await Promise.all([
    startGateway({ ...upstreams, GUARDRAIL_MODE: "enforce", GUARDRAIL_RULES: "" }),
    startGateway({ ...upstreams, GUARDRAIL_MODE: "enforce", GUARDRAIL_RULES: BLOCK_CARDS }),
    startGateway({ ...upstreams, GUARDRAIL_MODE: "observe", GUARDRAIL_RULES: BLOCK_CARDS }),
    startGateway({ ...upstreams, GUARDRAIL_MODE: "off", GUARDRAIL_RULES: BLOCK_CARDS }),
  ]);
});

afterAll(async () => {
  await Promise.all([redacting, blocking, observing, off].map((g) => g?.dispose()));
  await mock.stop();
});

/** The worker's log lines: Miniflare hands workerd's output to this process's `console.log`. */
let logs: string[] = [];
beforeEach(() => {
  logs = [];
  const log = console.log.bind(console);
  vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => {
    logs.push(args.map(String).join(" "));
    log(...args);
  });
});
afterEach(() => {
  vi.restoreAllMocks();
});

/** The `{"event":"guardrail",...}` lines logged so far, parsed. */
function guardrailLogs(): { line: string; verdict: string; verdicts: { rule: string; action: string }[] }[] {
  return logs.flatMap((line) => {
    const start = line.indexOf('{"event":"guardrail"');
    if (start < 0) return [];
    const parsed = JSON.parse(line.slice(start)) as { verdict: string; verdicts: [] };
    return [{ line, verdict: parsed.verdict, verdicts: parsed.verdicts }];
  });
}

const CARD = SECRETS.payment_card;
const KEY = SECRETS.openai_key;
const TEXT = `Card ${CARD}, key ${KEY}, ok.`;
const REDACTED = `Card ${maskOf("payment_card")}, key ${maskOf("openai_key")}, ok.`;
const DEMO_CARD = "4242 4242 4242 4242";
const DEMO_KEY = "sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789";

type Json = Record<string, unknown>;

/** `value` as JSON with the card and the key masked: what a redacted answer must be, byte for byte. */
function masked(value: unknown): string {
  return JSON.stringify(value).replaceAll(CARD, maskOf("payment_card")).replaceAll(KEY, maskOf("openai_key"));
}

/** No 8-character piece of a secret anywhere in the body, raw or in any decoded string (tool arguments too). */
function expectNoSecret(body: string, secrets: readonly string[] = [CARD, KEY]): void {
  expect(secretPieces(stringsOf(body), secrets)).toEqual([]);
}

/** Each provider's own non-streaming answer carrying `text` in every text field it has. */
const ANSWERS = {
  chat: (text: string): Json => ({
    id: "chatcmpl-e2e",
    object: "chat.completion",
    created: 1,
    model: "gpt-e2e",
    choices: [
      {
        index: 0,
        message: {
          role: "assistant",
          content: text,
          refusal: null,
          tool_calls: [
            {
              id: "call_e2e",
              type: "function",
              function: { name: "save_notes", arguments: JSON.stringify({ notes: text }) },
            },
          ],
        },
        logprobs: null,
        finish_reason: "tool_calls",
      },
    ],
    usage: { prompt_tokens: 5, completion_tokens: 9, total_tokens: 14 },
  }),
  responses: (text: string): Json => ({
    id: "resp_e2e",
    object: "response",
    created_at: 1,
    status: "completed",
    model: "o-e2e",
    output: [
      { id: "rs_e2e", type: "reasoning", summary: [{ type: "summary_text", text }] },
      {
        id: "msg_e2e",
        type: "message",
        status: "completed",
        role: "assistant",
        content: [{ type: "output_text", annotations: [], text }],
      },
      {
        id: "fc_e2e",
        type: "function_call",
        status: "completed",
        call_id: "call_e2e",
        name: "save_notes",
        arguments: JSON.stringify({ notes: text }),
      },
    ],
    usage: { input_tokens: 5, output_tokens: 9, total_tokens: 14 },
  }),
  anthropic: (text: string): Json => ({
    id: "msg_e2e",
    type: "message",
    role: "assistant",
    model: "claude-e2e",
    content: [
      { type: "thinking", thinking: text, signature: "RmFrZVNpZ25hdHVyZQ==" },
      { type: "text", text },
      { type: "tool_use", id: "toolu_e2e", name: "save_notes", input: { notes: text, tags: [text] } },
    ],
    stop_reason: "tool_use",
    stop_sequence: null,
    usage: { input_tokens: 5, output_tokens: 9 },
  }),
  gemini: (text: string): Json => ({
    candidates: [
      {
        content: {
          role: "model",
          parts: [
            { text, thought: true },
            { text },
            { functionCall: { name: "save_notes", args: { notes: text } } },
            { executableCode: { language: "PYTHON", code: `print(${JSON.stringify(text)})` } },
          ],
        },
        finishReason: "STOP",
        index: 0,
      },
    ],
    usageMetadata: { promptTokenCount: 5, candidatesTokenCount: 9, totalTokenCount: 14 },
    modelVersion: "gemini-e2e",
    responseId: "e2e-gemini",
  }),
} as const;

/** The native routes: gateway path, request body, the URL the mock must see, and the answer format. */
const NATIVE = {
  chat: {
    path: "/openai/v1/chat/completions",
    body: { model: "gpt-e2e", stream: false, messages: [{ role: "user", content: "hi" }] },
    upstream: "/openai/v1/chat/completions",
  },
  responses: {
    path: "/openai/v1/responses",
    body: { model: "o-e2e", input: "hi" },
    upstream: "/openai/v1/responses",
  },
  anthropic: {
    path: "/anthropic/v1/messages",
    body: { model: "claude-e2e", max_tokens: 64, messages: [{ role: "user", content: "hi" }] },
    upstream: "/anthropic/v1/messages",
  },
  gemini: {
    path: "/gemini/v1beta/models/gemini-e2e:generateContent",
    body: { contents: [{ role: "user", parts: [{ text: "hi" }] }] },
    upstream: "/gemini/v1beta/models/gemini-e2e:generateContent",
  },
} as const;
type Native = keyof typeof NATIVE;
const ROUTES = Object.keys(NATIVE) as Native[];

/** Unified-route models and the provider answer the mock returns for each. */
const UNIFIED = [
  { model: "openai/gpt-e2e", upstream: "/openai/v1/chat/completions", answer: ANSWERS.chat },
  { model: "anthropic/claude-e2e", upstream: "/anthropic/v1/messages", answer: ANSWERS.anthropic },
  {
    model: "gemini/gemini-e2e",
    upstream: "/gemini/v1beta/models/gemini-e2e:generateContent",
    answer: ANSWERS.gemini,
  },
] as const;

interface Received {
  readonly status: number;
  readonly text: string;
  readonly contentType: string | null;
}

/** Posts `body` to `path` while the mock answers `answer` (a string is sent as it is), and reads it all. */
async function exchange(
  gw: LocalGateway,
  path: string,
  body: unknown,
  answer: string | Json,
  opts: { upstream?: string; contentType?: string; headers?: Record<string, string> } = {},
): Promise<Received> {
  const raw = typeof answer === "string" ? answer : JSON.stringify(answer);
  mock.handle((_req, res) => {
    res.writeHead(200, { "content-type": opts.contentType ?? "application/json" }).end(raw);
  });
  const before = mock.requests.length;
  const res = await fetch(new URL(path, gw.url), {
    method: "POST",
    headers: { "content-type": "application/json", ...opts.headers },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (opts.upstream !== undefined) expect(mock.requests[before]?.url).toBe(opts.upstream);
  return { status: res.status, text, contentType: res.headers.get("content-type") };
}

function native(gw: LocalGateway, route: Native, answer: string | Json): Promise<Received> {
  return exchange(gw, NATIVE[route].path, NATIVE[route].body, answer, { upstream: NATIVE[route].upstream });
}

const chatBody = (model: string) => ({ model, messages: [{ role: "user", content: "hi" }] });

describe("enforce, redact: every native answer arrives redacted in its own shape", () => {
  for (const route of ROUTES) {
    it(`redacts a ${route} answer in every text field, changing nothing else`, async () => {
      const answer = ANSWERS[route](TEXT);
      const received = await native(redacting, route, answer);
      expect(received.status).toBe(200);
      expectNoSecret(received.text);
      // The same JSON with only the secrets masked: tool-call input objects stay objects.
      expect(received.text).toBe(masked(answer));
      expect(received.contentType).toBe("application/json");
    });
  }

  it("logs the verdicts as one guardrail line, never the text", async () => {
    await native(redacting, "anthropic", ANSWERS.anthropic(TEXT));
    expect(await until(() => guardrailLogs().length > 0, 5000)).toBe(true);
    const [entry] = guardrailLogs();
    expect(entry?.verdict).toMatch(/^redact:(payment_card|openai_key)$/);
    expect(new Set(entry?.verdicts.map((v) => `${v.rule}:${v.action}`))).toEqual(
      new Set(["payment_card:redact", "openai_key:redact"]),
    );
    expect(secretPieces([entry?.line ?? ""], [CARD, KEY])).toEqual([]);
  });

  it("passes an answer without matches byte for byte (not re-serialized)", async () => {
    // Spaced JSON, as some providers write it: a re-serialized answer would lose the spaces.
    const raw = JSON.stringify(ANSWERS.gemini("Nothing secret here."), null, 2);
    for (const resumable of ["true", "false"]) {
      const received = await exchange(redacting, NATIVE.gemini.path, NATIVE.gemini.body, raw, {
        headers: { "x-resumable": resumable },
      });
      expect(received).toEqual({ status: 200, text: raw, contentType: "application/json" });
    }
  });

  it("keeps the bytes of an answer whose matches are only flagged, and logs the flag", async () => {
    const raw = JSON.stringify(ANSWERS.chat(`Mail ${SECRETS.email}.`), null, 1);
    const received = await exchange(redacting, NATIVE.chat.path, NATIVE.chat.body, raw);
    expect(received.text).toBe(raw);
    expect(await until(() => guardrailLogs().length > 0, 5000)).toBe(true);
    expect(guardrailLogs()[0]?.verdict).toBe("flag:email");
  });

  for (const resumable of ["true", "false"]) {
    it(`guards a JSON answer to a streaming request (x-resumable: ${resumable})`, async () => {
      const answer = ANSWERS.chat(TEXT);
      const received = await exchange(
        redacting,
        NATIVE.chat.path,
        { ...NATIVE.chat.body, stream: true },
        answer,
        {
          headers: { "x-resumable": resumable },
        },
      );
      expect(received.text).toBe(masked(answer));
      expect(received.status).toBe(200);
    });
  }

  for (const u of UNIFIED) {
    it(`redacts a translated /v1/chat/completions answer from ${u.model}`, async () => {
      const received = await exchange(redacting, "/v1/chat/completions", chatBody(u.model), u.answer(TEXT), {
        upstream: u.upstream,
      });
      expect(received.status).toBe(200);
      expectNoSecret(received.text);
      const completion = JSON.parse(received.text) as {
        choices: { message: { content: string; tool_calls: { function: { arguments: string } }[] } }[];
      };
      const message = completion.choices[0]?.message;
      expect(message?.content).toBe(REDACTED);
      expect(JSON.parse(message?.tool_calls[0]?.function.arguments ?? "")).toMatchObject({ notes: REDACTED });
    });
  }

  it("redacts the demo/pii answer on the unified and the native route", async () => {
    for (const [path, model] of [
      ["/v1/chat/completions", "demo/pii"],
      ["/demo/v1/chat/completions", "pii"],
    ] as const) {
      const res = await fetch(new URL(path, redacting.url), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ ...chatBody(model), stream: false }),
      });
      const text = await res.text();
      expect(res.status).toBe(200);
      expectNoSecret(text, [DEMO_CARD, DEMO_KEY]);
      const content = (JSON.parse(text) as { choices: { message: { content: string } }[] }).choices[0]
        ?.message.content;
      expect(content).toContain(
        `The test card is ${maskOf("payment_card")} and the staging key is ${maskOf("openai_key")}.`,
      );
    }
  });
});

describe("enforce, block: the answer is a filtered answer in the client's own format (issue #12)", () => {
  const shapes: Record<Native, (json: Json) => void> = {
    chat: (json) =>
      expect(json).toMatchObject({
        id: "chatcmpl-e2e",
        object: "chat.completion",
        choices: [
          { index: 0, message: { role: "assistant", content: null }, finish_reason: "content_filter" },
        ],
        guardrail: { rule: "payment_card" },
      }),
    responses: (json) =>
      expect(json).toMatchObject({
        id: "resp_e2e",
        object: "response",
        status: "incomplete",
        incomplete_details: { reason: "content_filter" },
        output: [],
      }),
    anthropic: (json) =>
      expect(json).toMatchObject({
        id: "msg_e2e",
        type: "message",
        role: "assistant",
        content: [],
        stop_reason: "refusal",
      }),
    gemini: (json) =>
      expect(json).toMatchObject({
        candidates: [{ content: { parts: [] }, finishReason: "SAFETY", index: 0 }],
        responseId: "e2e-gemini",
      }),
  };
  for (const route of ROUTES) {
    it(`answers a ${route} answer with a card as that format's content-filter end, status 200`, async () => {
      const received = await native(blocking, route, ANSWERS[route](TEXT));
      expect(received.status).toBe(200);
      expectNoSecret(received.text);
      expect(received.text).not.toContain("Card ");
      shapes[route](JSON.parse(received.text) as Json);
    });
  }

  it("logs the block, naming the rule", async () => {
    await native(blocking, "gemini", ANSWERS.gemini(TEXT));
    expect(await until(() => guardrailLogs().length > 0, 5000)).toBe(true);
    expect(guardrailLogs()[0]?.verdict).toBe("block:payment_card");
  });

  for (const u of UNIFIED) {
    it(`answers finish_reason content_filter on /v1/chat/completions for ${u.model}`, async () => {
      const received = await exchange(blocking, "/v1/chat/completions", chatBody(u.model), u.answer(TEXT));
      expect(received.status).toBe(200);
      expectNoSecret(received.text);
      expect(received.text).not.toContain("Card ");
      expect(JSON.parse(received.text)).toMatchObject({
        object: "chat.completion",
        choices: [{ index: 0, message: { content: null }, finish_reason: "content_filter" }],
      });
    });
  }

  it("blocks the demo/pii answer: no card, no key, content_filter", async () => {
    for (const [path, model] of [
      ["/v1/chat/completions", "demo/pii"],
      ["/demo/v1/chat/completions", "pii"],
    ] as const) {
      const res = await fetch(new URL(path, blocking.url), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ ...chatBody(model), stream: false }),
      });
      const text = await res.text();
      expect(res.status).toBe(200);
      expectNoSecret(text, [DEMO_CARD, DEMO_KEY]);
      expect(JSON.parse(text)).toMatchObject({
        choices: [{ finish_reason: "content_filter", message: { content: null } }],
      });
    }
  });
});

describe("observe and off: the answer passes unchanged", () => {
  for (const route of ROUTES) {
    it(`observe forwards a ${route} answer byte for byte and logs what it would have blocked`, async () => {
      const raw = JSON.stringify(ANSWERS[route](TEXT), null, 2);
      const received = await exchange(observing, NATIVE[route].path, NATIVE[route].body, raw);
      expect(received).toMatchObject({ status: 200, text: raw });
      expect(await until(() => guardrailLogs().length > 0, 5000)).toBe(true);
      expect(guardrailLogs()[0]?.verdict).toBe("block:payment_card");
    });
  }

  it("off forwards every answer byte for byte, even one that is not JSON", async () => {
    for (const route of ROUTES) {
      const raw = JSON.stringify(ANSWERS[route](TEXT), null, 2);
      expect((await exchange(off, NATIVE[route].path, NATIVE[route].body, raw)).text).toBe(raw);
    }
    const html = `<html>${TEXT}</html>`;
    const received = await exchange(off, NATIVE.chat.path, NATIVE.chat.body, html, {
      contentType: "text/html",
    });
    expect(received).toEqual({ status: 200, text: html, contentType: "text/html" });
  });
});

describe("a 200 that the guardrail cannot read is refused, never passed unchecked", () => {
  it("answers 502 in the provider's shape for a native answer that is not JSON", async () => {
    const html = `<html>${TEXT}</html>`;
    const chat = await exchange(redacting, NATIVE.chat.path, NATIVE.chat.body, html, {
      contentType: "text/html",
    });
    expect(chat.status).toBe(502);
    expect(JSON.parse(chat.text)).toMatchObject({
      error: { code: "upstream_error", message: 'provider "openai" sent a response that is not JSON' },
    });
    const anthropic = await exchange(redacting, NATIVE.anthropic.path, NATIVE.anthropic.body, "{not json");
    expect(anthropic.status).toBe(502);
    expect(JSON.parse(anthropic.text)).toMatchObject({ type: "error", error: { type: "api_error" } });
    expectNoSecret(chat.text + anthropic.text);
  });

  it("keeps the 502 of the translated route", async () => {
    const received = await exchange(
      redacting,
      "/v1/chat/completions",
      chatBody("openai/gpt-e2e"),
      `<html>${TEXT}`,
    );
    expect(received.status).toBe(502);
    expectNoSecret(received.text);
  });

  it("scans every string of a JSON answer in an unexpected shape", async () => {
    const answer = { wrapped: { result: [{ say: TEXT }] } };
    const received = await native(redacting, "anthropic", answer);
    expect(received.text).toBe(masked(answer));
  });
});
