import type { ServerResponse } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalGateway, startGateway } from "../support/gateway.ts";
import { MockUpstream, type ReceivedRequest, startSse } from "../support/mock-upstream.ts";
import { readToEnd } from "../support/read-to-end.ts";
import {
  anthropicStream,
  anthropicToolStream,
  asJsonArguments,
  clientEvents,
  dataOf,
  fixedPieces,
  fragmentRanges,
  framingOf,
  geminiFunctionCallStream,
  geminiStream,
  leaks,
  maskOf,
  openAiChatStream,
  RULES,
  type RuleName,
  randomPieces,
  reassemble,
  responsesStream,
  type Scripted,
  SECRETS,
  script,
  secretPieces,
  secretsPieces,
  secretsText,
  splitEvents,
  stringsOf,
  stripIds,
  until,
  withoutTexts,
  writeBytewise,
  writeEvents,
} from "./guardrail-support.ts";

const mock = new MockUpstream();
const GATEWAY_KEY = "gk-e2e-guardrail-0123456789";
/** `enforce`, every built-in rule on `redact`, plus a deny term and a custom pattern (also `redact`). */
let redacting: LocalGateway;
/** `enforce`, every built-in rule on `block`. */
let blocking: LocalGateway;
/** `observe`, every built-in on `redact` except the OpenAI key on `block`: nothing may change or wait. */
let observing: LocalGateway;
/** `off`, every built-in on `block`. */
let off: LocalGateway;
/** Invalid GUARDRAIL_RULES: a custom rule with a bad regex, and one without maxLength. */
let badRegex: LocalGateway;
let noMaxLength: LocalGateway;

const every = (action: string) => ({ builtins: Object.fromEntries(RULES.map((r) => [r, action])) });

beforeAll(async () => {
  await mock.start();
  const upstreams = {
    OPENAI_BASE_URL: `${mock.baseUrl}/openai/v1`,
    ANTHROPIC_BASE_URL: `${mock.baseUrl}/anthropic`,
    GEMINI_BASE_URL: `${mock.baseUrl}/gemini`,
    OPENAI_API_KEY: "sk-e2e-openai",
    ANTHROPIC_API_KEY: "sk-ant-e2e",
    GEMINI_API_KEY: "AIza-e2e",
    // Callers authenticate with a gateway key (where gateway keys are enforced).
    GATEWAY_KEYS: JSON.stringify([{ name: "e2e", key: GATEWAY_KEY }]),
  };
  const start = (mode: string, rules: unknown) =>
    startGateway({ ...upstreams, GUARDRAIL_MODE: mode, GUARDRAIL_RULES: JSON.stringify(rules) });
  // Six configurations, six small workerd instances started at once (about 2 s together): the mode and
  // the rules are per deployment, so each needs its own.
  [redacting, blocking, observing, off, badRegex, noMaxLength] = await Promise.all([
    start("enforce", {
      ...every("redact"),
      denyTerms: { terms: ["Ünïcorn Projekt"] },
      custom: [
        { name: "ticket_id", pattern: "TCK-[0-9]{6}", maxLength: 10, action: "redact", mask: "<ticket>" },
      ],
    }),
    start("enforce", every("block")),
    start("observe", { builtins: { ...every("redact").builtins, openai_key: "block" } }),
    start("off", every("block")),
    start("enforce", {
      custom: [{ name: "bad_pattern", pattern: "(unclosed[", maxLength: 10, action: "redact" }],
    }),
    start("enforce", { custom: [{ name: "no_limit", pattern: "secret-[0-9]+", action: "block" }] }),
  ]);
});

afterAll(async () => {
  await Promise.all([redacting, blocking, observing, off, badRegex, noMaxLength].map((g) => g?.dispose()));
  await mock.stop();
});

/** The routes under test: the gateway path, a request body, and the URL the mock upstream must see. */
const ROUTES = {
  chat: {
    path: "/openai/v1/chat/completions",
    body: { model: "gpt-e2e", stream: true, messages: [{ role: "user", content: "hi" }] },
    upstream: "/openai/v1/chat/completions",
  },
  responses: {
    path: "/openai/v1/responses",
    body: { model: "o-e2e", stream: true, input: "hi" },
    upstream: "/openai/v1/responses",
  },
  anthropic: {
    path: "/anthropic/v1/messages",
    body: { model: "claude-e2e", stream: true, max_tokens: 64, messages: [{ role: "user", content: "hi" }] },
    upstream: "/anthropic/v1/messages",
  },
  gemini: {
    path: "/gemini/v1beta/models/gemini-e2e:streamGenerateContent",
    body: { contents: [{ role: "user", parts: [{ text: "hi" }] }] },
    upstream: "/gemini/v1beta/models/gemini-e2e:streamGenerateContent?alt=sse",
  },
  unified: {
    path: "/v1/chat/completions",
    body: { model: "anthropic/claude-e2e", stream: true, messages: [{ role: "user", content: "hi" }] },
    upstream: "/anthropic/v1/messages",
  },
} as const;
type Route = keyof typeof ROUTES;

function post(gw: LocalGateway, path: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(new URL(path, gw.url), {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${GATEWAY_KEY}`, ...headers },
    body: JSON.stringify(body),
  });
}

/** `GET /v1/streams/{id}[/status]` as the stream's owner. */
function get(gw: LocalGateway, path: string, headers: Record<string, string> = {}) {
  return fetch(new URL(path, gw.url), { headers: { authorization: `Bearer ${GATEWAY_KEY}`, ...headers } });
}

interface Run {
  readonly status: number;
  readonly text: string;
  readonly streamId: string | null;
  readonly upstream: ReceivedRequest;
}

/** Serves `events` from the mock (one write per event, or one byte per write) and reads the whole answer. */
async function run(
  gw: LocalGateway,
  route: Route,
  events: readonly string[],
  opts: { resumable?: boolean; bytewise?: boolean } = {},
): Promise<Run> {
  mock.handle(async (_req, res) => {
    startSse(res);
    await (opts.bytewise === true ? writeBytewise(res, events) : writeEvents(res, events));
  });
  const before = mock.requests.length;
  const res = await post(gw, ROUTES[route].path, ROUTES[route].body, {
    "x-resumable": String(opts.resumable ?? true),
  });
  // Inside the runner's 30 s: a byte-per-write stream takes seconds on a loaded machine.
  const text = await readToEnd(res, 25_000);
  const upstream = mock.requests[before];
  if (upstream === undefined) throw new Error("the mock upstream received no request");
  expect(upstream.url).toBe(ROUTES[route].upstream);
  return { status: res.status, text, streamId: res.headers.get("x-stream-id"), upstream };
}

/**
 * The guarantee, checked on everything a client received for `sent` (the mock's events) carrying the
 * scripted text on every channel: no 8-char piece of any secret anywhere (raw, decoded, reassembled);
 * every channel and every whole-text copy reads exactly the redacted text; and, when the client gets the
 * upstream's own events (`native`), each event without a match is forwarded byte for byte while each
 * event that had one is the same event with only its text changed.
 */
function expectGuarded(received: Run, sent: readonly string[], scripted: Scripted, native = true): void {
  expect(received.status).toBe(200);
  expect(leaks(received.text, scripted.secrets)).toEqual([]);
  const events = clientEvents(received.text);
  const { channels, wholes } = reassemble(events);
  expect(channels.size).toBeGreaterThan(0);
  for (const [channel, text] of channels) expect(text, `channel ${channel}`).toBe(scripted.expected);
  for (const w of wholes) expect(w.text, `whole text in ${w.channel}`).toBe(scripted.expected);
  if (!native) return;
  expect(events.length).toBe(sent.length);
  const hit = (r: { start: number; end: number; whole: boolean; text: string }) =>
    r.whole
      ? scripted.secrets.some((s) => r.text.includes(s))
      : scripted.spans.some((s) => r.start < s.end && s.start < r.end);
  const problems: string[] = [];
  let untouched = 0;
  fragmentRanges(sent).forEach((ranges, i) => {
    const got = events[i] ?? "";
    const want = sent[i] ?? "";
    if (!ranges.some(hit)) {
      untouched++;
      if (got !== want) problems.push(`event ${i} had no match but changed: ${JSON.stringify(got)}`);
      return;
    }
    if (framingOf(got) !== framingOf(want))
      problems.push(`event ${i} lost its framing: ${JSON.stringify(got)}`);
    const a = JSON.stringify(withoutTexts(dataOf(got)));
    const b = JSON.stringify(withoutTexts(dataOf(want)));
    if (a !== b) problems.push(`event ${i} changed beyond its text: ${a} vs ${b}`);
  });
  expect(problems).toEqual([]);
  // Not vacuous: some events (at least the stream's own start and end) had nothing to redact.
  expect(untouched).toBeGreaterThan(0);
}

const TEXT = secretsText();

describe("enforce: no character of any match reaches the client, however the upstream splits it", () => {
  it("uses secrets none of whose 8-character pieces occurs in the redacted text (so a leak is a leak)", () => {
    expect(TEXT.spans.map((s) => s.rule)).toEqual(RULES);
    expect(secretPieces([TEXT.expected], TEXT.secrets)).toEqual([]);
    expect(leaks(TEXT.text, TEXT.secrets).length).toBeGreaterThan(TEXT.secrets.length * 10);
  });

  it("OpenAI chat with one character per delta.content event", async () => {
    const sent = openAiChatStream(fixedPieces(TEXT.text, 1));
    expectGuarded(await run(redacting, "chat", sent), sent, TEXT);
  });

  const chunkings: [string, string[], boolean][] = [
    ["2 characters per event, plain passthrough", fixedPieces(TEXT.text, 2), false],
    ["7 characters per event", fixedPieces(TEXT.text, 7), true],
    ["random pieces of 1-13 characters (seed 1)", randomPieces(TEXT.text, 1, 13), true],
    ["random pieces of 1-40 characters (seed 2), plain passthrough", randomPieces(TEXT.text, 2, 40), false],
    ["the whole text in one event", [TEXT.text], true],
  ];
  for (const [name, pieces, resumable] of chunkings) {
    it(`OpenAI chat with ${name}`, async () => {
      const sent = openAiChatStream(pieces);
      expectGuarded(await run(redacting, "chat", sent, { resumable }), sent, TEXT);
    });
  }

  it("OpenAI chat with the SSE bytes split at every byte boundary across network writes", async () => {
    const sent = openAiChatStream(fixedPieces(TEXT.text, 5));
    expectGuarded(await run(redacting, "chat", sent, { bytewise: true }), sent, TEXT);
  });

  it("Gemini (CRLF framing) with the SSE bytes split at every byte boundary, CR and LF apart", async () => {
    const sent = geminiStream([], fixedPieces(TEXT.text, 9));
    expectGuarded(await run(redacting, "gemini", sent, { bytewise: true, resumable: false }), sent, TEXT);
  });

  it("in tool-call arguments, one character per delta.tool_calls[0].function.arguments event", async () => {
    const args = asJsonArguments(secretsPieces(RULES.filter((r) => r !== "private_key")));
    const sent = openAiChatStream(fixedPieces(args.text, 1), "tool");
    const received = await run(redacting, "chat", sent);
    expectGuarded(received, sent, args);
    const [call] = reassemble(clientEvents(received.text)).channels.values();
    expect(JSON.parse(call ?? "")).toEqual(JSON.parse(args.expected));
  });

  it("in tool-call arguments in random pieces", async () => {
    const args = asJsonArguments(secretsPieces(RULES.filter((r) => r !== "private_key")));
    const sent = openAiChatStream(randomPieces(args.text, 3, 11), "tool");
    expectGuarded(await run(redacting, "chat", sent, { resumable: false }), sent, args);
  });

  it("a PEM private key inside JSON-encoded tool-call arguments (its newlines escaped as \\n)", async () => {
    // A model calling a tool with a key file writes the PEM block as a JSON string: every line break is
    // the two characters `\n`. The whole block, body and END line included, must still be redacted.
    const args = JSON.stringify({ path: "id_rsa", contents: SECRETS.private_key });
    const sent = openAiChatStream(fixedPieces(args, 3), "tool");
    const received = await run(redacting, "chat", sent);
    expect(leaks(received.text, [SECRETS.private_key])).toEqual([]);
    const [call] = reassemble(clientEvents(received.text)).channels.values();
    expect(JSON.parse(call ?? "")).toEqual({ path: "id_rsa", contents: maskOf("private_key") });
  });

  it("in Anthropic tool_use input_json_delta fragments, one character per event", async () => {
    const args = asJsonArguments(secretsPieces(RULES.filter((r) => r !== "private_key")));
    const sent = anthropicToolStream(fixedPieces(args.text, 1));
    expectGuarded(await run(redacting, "anthropic", sent), sent, args);
  });

  it("in Gemini functionCall args (they arrive whole)", async () => {
    const text = secretsText(RULES.filter((r) => r !== "private_key"));
    const received = await run(redacting, "gemini", geminiFunctionCallStream({ notes: text.text }));
    expect(leaks(received.text, text.secrets)).toEqual([]);
    expect(dataOf(clientEvents(received.text).at(-1) ?? "")).toMatchObject({
      candidates: [
        { content: { parts: [{ functionCall: { name: "save_notes", args: { notes: text.expected } } }] } },
      ],
    });
  });

  it("as Anthropic thinking_delta and text_delta, one character per event", async () => {
    const pieces = fixedPieces(TEXT.text, 1);
    const sent = anthropicStream(pieces, pieces);
    const received = await run(redacting, "anthropic", sent);
    expectGuarded(received, sent, TEXT);
    expect([...reassemble(clientEvents(received.text)).channels.keys()]).toEqual(["b0/thinking", "b1/text"]);
  });

  it("as Anthropic deltas in random pieces", async () => {
    const sent = anthropicStream(randomPieces(TEXT.text, 4, 17), randomPieces(TEXT.text, 5, 9));
    expectGuarded(await run(redacting, "anthropic", sent, { resumable: false }), sent, TEXT);
  });

  it("as Gemini thought and text parts, one character per event", async () => {
    const pieces = fixedPieces(TEXT.text, 1);
    const sent = geminiStream(pieces, pieces);
    const received = await run(redacting, "gemini", sent);
    expectGuarded(received, sent, TEXT);
    expect([...reassemble(clientEvents(received.text)).channels.keys()]).toEqual(["thought", "text"]);
  });

  it("as Gemini parts, two per event, in random pieces", async () => {
    const sent = geminiStream(randomPieces(TEXT.text, 6, 21), randomPieces(TEXT.text, 7, 5));
    expectGuarded(await run(redacting, "gemini", sent), sent, TEXT);
  });

  it("as Responses output_text.delta events, one character each, and in every event repeating the text", async () => {
    const sent = responsesStream(fixedPieces(TEXT.text, 1));
    const received = await run(redacting, "responses", sent);
    expectGuarded(received, sent, TEXT);
    // output_text.done, content_part.done, output_item.done and response.completed each repeat it.
    expect(reassemble(clientEvents(received.text)).wholes.map((w) => w.channel)).toEqual([
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.completed",
    ]);
  });

  it("as Responses deltas in random pieces", async () => {
    const sent = responsesStream(randomPieces(TEXT.text, 8, 25));
    expectGuarded(await run(redacting, "responses", sent, { resumable: false }), sent, TEXT);
  });

  it("translated to /v1/chat/completions from an Anthropic upstream, one character per event", async () => {
    const pieces = fixedPieces(TEXT.text, 1);
    const received = await run(redacting, "unified", anthropicStream(pieces, pieces));
    expectGuarded(received, [], TEXT, false);
    const events = clientEvents(received.text);
    expect([...reassemble(events).channels.keys()].sort()).toEqual(["c0/content", "c0/reasoning"]);
    expect(events.at(-1)).toBe("data: [DONE]\n\n");
  });
});

describe("every built-in rule redacts on its own", () => {
  it("replaces each secret by its rule's mask with nothing around it changed", async () => {
    for (const rule of RULES) {
      const scripted = script(["Here: ", { rule }, " — fin."]);
      const sent = openAiChatStream(fixedPieces(scripted.text, 1));
      const received = await run(redacting, "chat", sent, { resumable: false });
      expect(reassemble(clientEvents(received.text)).channels.get("c0/content"), rule).toBe(
        `Here: ${maskOf(rule)} — fin.`,
      );
      expect(leaks(received.text, scripted.secrets), rule).toEqual([]);
    }
  });
});

describe("user rules redact through the same window", () => {
  it("redacts a deny term in any case and Unicode form, and a custom pattern with its own mask", async () => {
    const variants = ["ÜNÏCORN PROJEKT", "ünïcorn projekt".normalize("NFD"), "Ünïcorn Projekt"];
    const text = `Le ${variants[0]} (alias ${variants[1]}, né ${variants[2]}) — ticket TCK-123456, pas TCK-98.`;
    const d = maskOf("deny_terms");
    const sent = openAiChatStream(fixedPieces(text, 1));
    const received = await run(redacting, "chat", sent);
    expect(reassemble(clientEvents(received.text)).channels.get("c0/content")).toBe(
      `Le ${d} (alias ${d}, né ${d}) — ticket <ticket>, pas TCK-98.`,
    );
    expect(leaks(received.text, [...variants, "TCK-123456"])).toEqual([]);
  });
});

/** Position just after event `n` (its `id: n` line and blank line) in a resumable stream's text. */
function afterEvent(text: string, n: number): number {
  const m = new RegExp(`(?:^|\\n)id: ${n}(\\r\\n\\r\\n|\\n\\n)`).exec(text);
  if (m === null) throw new Error(`no event ${n}`);
  return m.index + m[0].length;
}

describe("replays show the same redactions", () => {
  const cases: [Route, string[]][] = [
    ["chat", openAiChatStream(fixedPieces(TEXT.text, 1))],
    ["anthropic", anthropicStream(fixedPieces(TEXT.text, 3), fixedPieces(TEXT.text, 2))],
    ["gemini", geminiStream([], fixedPieces(TEXT.text, 2))],
    ["responses", responsesStream(fixedPieces(TEXT.text, 2))],
    ["unified", anthropicStream([], fixedPieces(TEXT.text, 2))],
  ];
  for (const [route, sent] of cases) {
    it(`replays a ${route} stream byte for byte, from the start and from the middle`, async () => {
      const first = await run(redacting, route, sent);
      expect(leaks(first.text, TEXT.secrets)).toEqual([]);
      const id = first.streamId ?? "";
      expect(id).not.toBe("");
      const replay = await (await get(redacting, `/v1/streams/${id}`)).text();
      expect(replay.startsWith("retry: 1000\n\n")).toBe(true);
      expect(replay.slice("retry: 1000\n\n".length)).toBe(first.text);
      const middle = Math.floor(splitEvents(stripIds(first.text)).length / 2);
      const resumed = await (
        await get(redacting, `/v1/streams/${id}`, { "last-event-id": String(middle) })
      ).text();
      expect(resumed.slice("retry: 1000\n\n".length)).toBe(first.text.slice(afterEvent(first.text, middle)));
      expect(leaks(resumed, TEXT.secrets)).toEqual([]);
    });
  }

  it("gives a reader that resumes while the stream is live the same redacted bytes", async () => {
    const sent = openAiChatStream(fixedPieces(TEXT.text, 2));
    let finished = false;
    mock.handle(async (_req, res) => {
      startSse(res);
      for (const e of sent) {
        res.write(e);
        await new Promise((r) => setTimeout(r, 1));
      }
      finished = true;
      res.end();
    });
    const res = await post(redacting, ROUTES.chat.path, ROUTES.chat.body);
    const reader = res.body?.getReader();
    if (reader === undefined) throw new Error("no body");
    const decoder = new TextDecoder();
    let first = decoder.decode((await reader.read()).value, { stream: true });
    expect(finished).toBe(false);
    const replay = get(redacting, `/v1/streams/${res.headers.get("x-stream-id")}`).then((r) => r.text());
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      first += decoder.decode(value, { stream: true });
    }
    expect(leaks(first, TEXT.secrets)).toEqual([]);
    expect((await replay).slice("retry: 1000\n\n".length)).toBe(first);
  });
});

const BEFORE = "Voilà — here is the key you asked for: ";
const AFTER = " AFTER-THE-MATCH 🚫";

/**
 * Serves a stream whose text is BEFORE, the OpenAI key, then AFTER many times, written slowly after the
 * key (3 ms per event) so that only an abort from the gateway ends it early.
 */
function serveUntilAborted(events: readonly string[], slowFrom: number) {
  const upstream = { finished: false, closedEarly: false, written: 0 };
  mock.handle(async (_req, res: ServerResponse) => {
    startSse(res);
    res.on("close", () => {
      upstream.closedEarly = !upstream.finished;
    });
    for (const [i, e] of events.entries()) {
      if (res.destroyed) return;
      res.write(e);
      upstream.written++;
      await new Promise((r) => (i >= slowFrom ? setTimeout(r, 3) : setImmediate(r)));
    }
    upstream.finished = true;
    res.end();
  });
  return upstream;
}

describe("enforce: text the client receives outside plain text parts is scanned too", () => {
  it("redacts Gemini code parts, Responses code-interpreter code and Anthropic cited text", async () => {
    const K = SECRETS.openai_key;
    const gemini = (o: unknown) => `data: ${JSON.stringify(o)}\r\n\r\n`;
    const named = (type: string, o: Record<string, unknown>) =>
      `event: ${type}\ndata: ${JSON.stringify({ type, ...o })}\n\n`;
    const cases: [string, Route, string[]][] = [
      [
        "Gemini executableCode.code and codeExecutionResult.output",
        "gemini",
        [
          gemini({
            candidates: [
              {
                content: {
                  role: "model",
                  parts: [
                    { executableCode: { language: "PYTHON", code: `key = "${K}"` } },
                    { codeExecutionResult: { outcome: "OUTCOME_OK", output: K } },
                  ],
                },
                index: 0,
              },
            ],
          }),
          gemini({ candidates: [{ content: { role: "model", parts: [] }, finishReason: "STOP", index: 0 }] }),
        ],
      ],
      [
        "Responses response.code_interpreter_call_code.delta",
        "responses",
        [
          named("response.code_interpreter_call_code.delta", {
            item_id: "ci_e2e",
            output_index: 0,
            delta: `print("${K}")`,
          }),
          named("response.completed", { response: { status: "completed", output: [] } }),
        ],
      ],
      [
        "Anthropic citations_delta cited_text",
        "anthropic",
        [
          named("message_start", {
            message: { id: "m", role: "assistant", content: [], usage: { input_tokens: 1 } },
          }),
          named("content_block_start", { index: 0, content_block: { type: "text", text: "" } }),
          named("content_block_delta", {
            index: 0,
            delta: {
              type: "citations_delta",
              citation: {
                type: "char_location",
                cited_text: `key ${K}`,
                document_index: 0,
                start_char_index: 0,
                end_char_index: 9,
              },
            },
          }),
          named("content_block_stop", { index: 0 }),
          named("message_delta", { delta: { stop_reason: "end_turn" }, usage: { output_tokens: 1 } }),
          named("message_stop", {}),
        ],
      ],
    ];
    for (const [name, route, sent] of cases) {
      const received = await run(redacting, route, sent, { resumable: false });
      expect(received.status, name).toBe(200);
      // Soft: each format's gap is reported on its own.
      expect.soft(leaks(received.text, [K]), `leaked through ${name}`).toEqual([]);
    }
  });
});

describe("block: the answer stops in the client's own format", () => {
  const blocked = script([BEFORE, { rule: "openai_key" }, AFTER.repeat(150)]);
  const pieces = fixedPieces(blocked.text, 2);
  const firstAfter = Math.ceil(Array.from(BEFORE + SECRETS.openai_key).length / 2);
  const cases: {
    route: Route;
    sent: string[];
    slowFrom: number;
    ending: (events: string[]) => void;
  }[] = [
    {
      route: "chat",
      sent: openAiChatStream(pieces),
      slowFrom: firstAfter,
      ending: (events) => {
        expect(events.at(-1)).toBe("data: [DONE]\n\n");
        expect(dataOf(events.at(-2) ?? "")).toMatchObject({
          choices: [{ finish_reason: "content_filter" }],
          guardrail: { rule: "openai_key" },
        });
      },
    },
    {
      route: "anthropic",
      sent: anthropicStream([], pieces),
      slowFrom: firstAfter + 2,
      ending: (events) => {
        const [delta, error, stop] = events.slice(-3);
        expect(delta).toMatch(/^event: message_delta\n/);
        expect(dataOf(delta ?? "")).toMatchObject({
          type: "message_delta",
          delta: { stop_reason: "refusal" },
        });
        expect(error).toMatch(/^event: error\n/);
        expect(dataOf(error ?? "")).toMatchObject({
          type: "error",
          error: { message: expect.stringContaining('"openai_key"') },
        });
        expect(stop).toBe('event: message_stop\ndata: {"type":"message_stop"}\n\n');
      },
    },
    {
      route: "gemini",
      sent: geminiStream([], pieces),
      slowFrom: firstAfter,
      ending: (events) => {
        expect(dataOf(events.at(-1) ?? "")).toMatchObject({
          candidates: [{ finishReason: "SAFETY", finishMessage: expect.stringContaining('"openai_key"') }],
        });
      },
    },
    {
      route: "responses",
      sent: responsesStream(pieces),
      slowFrom: firstAfter + 3,
      ending: (events) => {
        expect(dataOf(events.at(-1) ?? "")).toMatchObject({
          type: "response.incomplete",
          response: { status: "incomplete", incomplete_details: { reason: "content_filter" } },
        });
      },
    },
    {
      route: "unified",
      sent: anthropicStream([], pieces),
      slowFrom: firstAfter + 2,
      ending: (events) => {
        expect(events.at(-1)).toBe("data: [DONE]\n\n");
        expect(dataOf(events.at(-2) ?? "")).toMatchObject({ choices: [{ finish_reason: "content_filter" }] });
      },
    },
  ];
  for (const c of cases) {
    it(`stops a ${c.route} stream: format's own end, upstream aborted, status blocked naming the rule`, async () => {
      const upstream = serveUntilAborted(c.sent, c.slowFrom);
      const before = mock.requests.length;
      const res = await post(blocking, ROUTES[c.route].path, ROUTES[c.route].body);
      // A block must close the response by itself: a deadline, not the runner's timeout, says it did not.
      const text = await readToEnd(res);
      await mock.requests[before]?.closed;
      expect(upstream.closedEarly).toBe(true);
      expect(upstream.written).toBeLessThan(c.sent.length / 2);
      expect(leaks(text, blocked.secrets)).toEqual([]);
      expect(text).not.toContain("AFTER");
      const events = clientEvents(text);
      c.ending(events);
      for (const t of reassemble(events).channels.values()) expect(BEFORE.startsWith(t)).toBe(true);
      const status = (await (
        await get(blocking, `/v1/streams/${res.headers.get("x-stream-id")}/status`)
      ).json()) as { state: string; detail: string };
      expect(status.state).toBe("blocked");
      expect(status.detail).toContain("openai_key");
    });
  }

  it("stops a plain-passthrough (non-resumable) OpenAI stream the same way", async () => {
    const sent = openAiChatStream(pieces);
    const upstream = serveUntilAborted(sent, firstAfter);
    const res = await post(blocking, ROUTES.chat.path, ROUTES.chat.body, { "x-resumable": "false" });
    const text = await readToEnd(res);
    await mock.requests.at(-1)?.closed;
    expect(upstream.closedEarly).toBe(true);
    expect(leaks(text, blocked.secrets)).toEqual([]);
    expect(text).not.toContain("AFTER");
    const events = clientEvents(text);
    expect(events.at(-1)).toBe("data: [DONE]\n\n");
    expect(dataOf(events.at(-2) ?? "")).toMatchObject({ choices: [{ finish_reason: "content_filter" }] });
  });

  it("blocks on every built-in rule, one character per event, and names that rule", async () => {
    for (const rule of RULES) {
      const scripted = script(["Sure, here it is: ", { rule }, AFTER]);
      const sent = openAiChatStream(fixedPieces(scripted.text, 1));
      const received = await run(blocking, "chat", sent);
      const events = clientEvents(received.text);
      expect(leaks(received.text, scripted.secrets), rule).toEqual([]);
      expect(received.text, rule).not.toContain("AFTER");
      expect(dataOf(events.at(-2) ?? ""), rule).toMatchObject({
        choices: [{ finish_reason: "content_filter" }],
        guardrail: { rule },
      });
      const content = reassemble(events).channels.get("c0/content") ?? "";
      expect("Sure, here it is: ".startsWith(content), rule).toBe(true);
      const status = (await (await get(blocking, `/v1/streams/${received.streamId}/status`)).json()) as {
        state: string;
        detail: string;
      };
      expect(status, rule).toMatchObject({ state: "blocked", detail: expect.stringContaining(rule) });
    }
  });
});

/**
 * Streams `sent` in lockstep: the mock writes event i + 1 only once the client has received event i, or
 * after `waitMs`, recording i as held. Returns what the client received and which events were held.
 */
async function lockstep(
  gw: LocalGateway,
  sent: readonly string[],
  waitMs: number,
  resumable: boolean,
): Promise<{ text: string; held: number[] }> {
  let seen = 0;
  const held: number[] = [];
  mock.handle(async (_req, res) => {
    startSse(res);
    for (const [i, e] of sent.entries()) {
      res.write(e);
      // After a first hold the test has failed: send the rest without waiting, to fail fast.
      if (!(await until(() => seen > i, held.length === 0 ? waitMs : 0))) held.push(i);
    }
    res.end();
  });
  const res = await post(gw, ROUTES.chat.path, ROUTES.chat.body, { "x-resumable": String(resumable) });
  const reader = res.body?.getReader();
  if (reader === undefined) throw new Error("no body");
  const decoder = new TextDecoder();
  let text = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const chunk = decoder.decode(value, { stream: true });
    // Count complete events (each ends with one blank line) as they arrive.
    const tail = text.slice(-1) + chunk;
    seen += (tail.match(/\n\n/g) ?? []).length;
    text += chunk;
  }
  return { text, held };
}

describe("observe: everything is forwarded unchanged and at once", () => {
  it("forwards every event before the upstream sends the next, byte for byte (control: enforce holds)", async () => {
    const sent = openAiChatStream(fixedPieces(TEXT.text, 1));
    for (const resumable of [false, true]) {
      const { text, held } = await lockstep(observing, sent, 2000, resumable);
      expect(held).toEqual([]);
      expect(clientEvents(text).join("")).toBe(sent.join(""));
    }
    // The same lockstep against `enforce` must see held events, or this test could not fail.
    const control = openAiChatStream(["My key: ", "sk-proj-Fake", "0penAIkey_E2E", "-0123456789", " ok"]);
    const { held } = await lockstep(redacting, control, 150, false);
    expect(held.length).toBeGreaterThan(0);
  });

  const cases: [Route, string[]][] = [
    ["anthropic", anthropicStream(fixedPieces(TEXT.text, 3), fixedPieces(TEXT.text, 1))],
    ["gemini", geminiStream(fixedPieces(TEXT.text, 4), fixedPieces(TEXT.text, 1))],
    ["responses", responsesStream(fixedPieces(TEXT.text, 1))],
  ];
  for (const [route, sent] of cases) {
    it(`forwards a ${route} stream full of secrets byte for byte, not even a block rule stopping it`, async () => {
      const received = await run(observing, route, sent);
      expect(clientEvents(received.text).join("")).toBe(sent.join(""));
    });
  }

  it("forwards the prompt unchanged", async () => {
    const body = { ...ROUTES.chat.body, messages: [{ role: "user", content: `key ${SECRETS.openai_key}` }] };
    mock.handle((_req, res) => void res.writeHead(200, { "content-type": "application/json" }).end("{}"));
    const res = await post(observing, ROUTES.chat.path, { ...body, stream: false });
    expect(res.status).toBe(200);
    expect(mock.requests.at(-1)?.body).toBe(JSON.stringify({ ...body, stream: false }));
  });
});

describe("off: nothing is scanned", () => {
  const cases: [Route, string[]][] = [
    ["chat", openAiChatStream(fixedPieces(TEXT.text, 1))],
    ["anthropic", anthropicStream(fixedPieces(TEXT.text, 5), fixedPieces(TEXT.text, 2))],
  ];
  for (const [route, sent] of cases) {
    it(`forwards a ${route} stream byte for byte although every rule is on block`, async () => {
      for (const resumable of [false, true]) {
        const received = await run(off, route, sent, { resumable });
        expect(clientEvents(received.text).join("")).toBe(sent.join(""));
      }
    });
  }

  it("forwards the prompt unchanged", async () => {
    const body = {
      model: "gpt-e2e",
      stream: false,
      messages: [{ role: "user", content: SECRETS.aws_access_key_id }],
    };
    mock.handle((_req, res) => void res.writeHead(200, { "content-type": "application/json" }).end("{}"));
    expect((await post(off, ROUTES.chat.path, body)).status).toBe(200);
    expect(mock.requests.at(-1)?.body).toBe(JSON.stringify(body));
  });
});

/** `value` as JSON with every secret of `rules` replaced by its mask (the upstream must see exactly this). */
function masked(value: unknown, rules: readonly RuleName[]): unknown {
  let json = JSON.stringify(value);
  for (const rule of rules) json = json.replaceAll(JSON.stringify(SECRETS[rule]).slice(1, -1), maskOf(rule));
  return JSON.parse(json);
}

describe("prompt: the same rules apply before any upstream call", () => {
  const S = SECRETS;
  const prompts: { name: string; path: string; body: unknown; rules: RuleName[]; answer: string }[] = [
    {
      name: "/openai chat messages (string and text parts)",
      path: "/openai/v1/chat/completions",
      body: {
        model: "gpt-e2e",
        messages: [
          { role: "system", content: `Never print ${S.openai_key}.` },
          { role: "user", content: [{ type: "text", text: `Card ${S.payment_card}, mail ${S.email}.` }] },
        ],
      },
      rules: ["openai_key", "payment_card", "email"],
      answer: "{}",
    },
    {
      name: "/openai responses input and instructions",
      path: "/openai/v1/responses",
      body: {
        model: "o-e2e",
        instructions: `Token ${S.github_token}`,
        input: `AWS ${S.aws_access_key_id} ok`,
      },
      rules: ["github_token", "aws_access_key_id"],
      answer: "{}",
    },
    {
      name: "/anthropic system and content blocks",
      path: "/anthropic/v1/messages",
      body: {
        model: "claude-e2e",
        max_tokens: 64,
        system: `Key file:\n${S.private_key}\nend.`,
        messages: [
          { role: "user", content: [{ type: "text", text: `JWT ${S.jwt} and ${S.anthropic_key}` }] },
        ],
      },
      rules: ["private_key", "jwt", "anthropic_key"],
      answer: "{}",
    },
    {
      name: "/gemini contents and systemInstruction",
      path: "/gemini/v1beta/models/gemini-e2e:generateContent",
      body: {
        systemInstruction: { parts: [{ text: `Google ${S.google_api_key}` }] },
        contents: [{ role: "user", parts: [{ text: `IBAN ${S.iban}, SSN ${S.us_ssn}.` }] }],
      },
      rules: ["google_api_key", "iban", "us_ssn"],
      answer: "{}",
    },
  ];
  for (const p of prompts) {
    it(`redacts ${p.name}: the upstream receives the redacted prompt`, async () => {
      mock.handle(
        (_req, res) => void res.writeHead(200, { "content-type": "application/json" }).end(p.answer),
      );
      const res = await post(redacting, p.path, p.body);
      expect(res.status).toBe(200);
      const upstream = mock.requests.at(-1)?.body ?? "";
      expect(
        secretPieces(
          [upstream],
          p.rules.map((r) => SECRETS[r]),
        ),
      ).toEqual([]);
      expect(JSON.parse(upstream)).toEqual(masked(p.body, p.rules));
    });
  }

  it("redacts secrets inside the tool calls and tool results a prompt carries", async () => {
    // Tool outputs (a file, an environment) are where secrets enter a conversation; every format
    // carries them in structured fields, not only in `content`/`text` strings.
    const K = S.openai_key;
    const cases: [string, string, unknown][] = [
      [
        "Responses function_call_output.output",
        "/openai/v1/responses",
        { model: "o-e2e", input: [{ type: "function_call_output", call_id: "c1", output: `OPENAI=${K}` }] },
      ],
      [
        "Anthropic tool_use.input",
        "/anthropic/v1/messages",
        {
          model: "claude-e2e",
          max_tokens: 64,
          messages: [
            { role: "assistant", content: [{ type: "tool_use", id: "t1", name: "env", input: { key: K } }] },
          ],
        },
      ],
      [
        "Gemini functionCall.args",
        "/gemini/v1beta/models/gemini-e2e:generateContent",
        { contents: [{ role: "model", parts: [{ functionCall: { name: "env", args: { key: K } } }] }] },
      ],
      [
        "Gemini functionResponse.response",
        "/gemini/v1beta/models/gemini-e2e:generateContent",
        {
          contents: [
            { role: "user", parts: [{ functionResponse: { name: "env", response: { result: K } } }] },
          ],
        },
      ],
      [
        "OpenAI chat tool_calls arguments with a PEM key (JSON-escaped newlines)",
        "/openai/v1/chat/completions",
        {
          model: "gpt-e2e",
          messages: [
            {
              role: "assistant",
              tool_calls: [
                {
                  id: "c1",
                  type: "function",
                  function: { name: "write", arguments: JSON.stringify({ contents: S.private_key }) },
                },
              ],
            },
          ],
        },
      ],
    ];
    mock.handle((_req, res) => void res.writeHead(200, { "content-type": "application/json" }).end("{}"));
    for (const [name, path, body] of cases) {
      expect((await post(redacting, path, body)).status, name).toBe(200);
      const upstream = mock.requests.at(-1)?.body ?? "";
      // Soft: each field's gap is reported on its own.
      expect
        .soft(secretPieces(stringsOf(upstream), [K, S.private_key]), `reached the upstream: ${name}`)
        .toEqual([]);
    }
  });

  it("redacts a /v1/chat/completions prompt before translating it for an Anthropic upstream", async () => {
    mock.handle(
      (_req, res) =>
        void res.writeHead(200, { "content-type": "application/json" }).end(
          JSON.stringify({
            id: "msg_e2e",
            type: "message",
            role: "assistant",
            model: "claude-e2e",
            content: [{ type: "text", text: "ok" }],
            stop_reason: "end_turn",
            usage: { input_tokens: 5, output_tokens: 1 },
          }),
        ),
    );
    const res = await post(redacting, "/v1/chat/completions", {
      model: "anthropic/claude-e2e",
      messages: [
        { role: "system", content: `Slack ${S.slack_token}` },
        { role: "user", content: `Call me at ${S.phone}` },
      ],
    });
    expect(res.status).toBe(200);
    const upstream = mock.requests.at(-1)?.body ?? "";
    expect(mock.requests.at(-1)?.url).toBe("/anthropic/v1/messages");
    expect(secretPieces([upstream], [S.slack_token, S.phone])).toEqual([]);
    expect(upstream).toContain(`Slack ${maskOf("slack_token")}`);
    expect(upstream).toContain(`Call me at ${maskOf("phone")}`);
  });

  const blocks: { path: string; body: unknown; shape: (body: unknown) => void }[] = [
    {
      path: "/openai/v1/chat/completions",
      body: {
        model: "gpt-e2e",
        stream: true,
        messages: [{ role: "user", content: `k=${S.aws_access_key_id}` }],
      },
      shape: openAiShape,
    },
    {
      path: "/openai/v1/responses",
      body: { model: "o-e2e", stream: true, input: [{ role: "user", content: `k=${S.aws_access_key_id}` }] },
      shape: openAiShape,
    },
    {
      path: "/v1/chat/completions",
      body: {
        model: "anthropic/claude-e2e",
        stream: true,
        messages: [{ role: "user", content: `k=${S.aws_access_key_id}` }],
      },
      shape: openAiShape,
    },
    {
      path: "/anthropic/v1/messages",
      body: {
        model: "claude-e2e",
        max_tokens: 64,
        stream: true,
        messages: [{ role: "user", content: [{ type: "text", text: `k=${S.aws_access_key_id}` }] }],
      },
      shape: (b) =>
        expect(b).toEqual({
          type: "error",
          error: { type: "invalid_request_error", message: expect.stringContaining('"aws_access_key_id"') },
        }),
    },
    {
      path: "/gemini/v1beta/models/gemini-e2e:streamGenerateContent",
      body: { contents: [{ role: "user", parts: [{ text: `k=${S.aws_access_key_id}` }] }] },
      shape: (b) =>
        expect(b).toEqual({
          error: {
            code: 400,
            message: expect.stringContaining('"aws_access_key_id"'),
            status: "INVALID_ARGUMENT",
          },
        }),
    },
  ];
  for (const b of blocks) {
    it(`answers a blocked prompt on ${b.path} with a 400 in its own shape, and calls no upstream`, async () => {
      const before = mock.requests.length;
      const res = await post(blocking, b.path, b.body);
      expect(res.status).toBe(400);
      const text = await res.text();
      b.shape(JSON.parse(text));
      expect(secretPieces([text], [S.aws_access_key_id])).toEqual([]);
      expect(mock.requests.length).toBe(before);
    });
  }
});

function openAiShape(body: unknown): void {
  expect(body).toEqual({
    error: {
      message: expect.stringContaining('"aws_access_key_id"'),
      type: "invalid_request_error",
      param: null,
      code: "guardrail_blocked",
    },
  });
}

describe("configuration errors are a clear 500 naming the rule, not a crash", () => {
  const cases: [string, () => LocalGateway, RegExp][] = [
    ["a bad regex", () => badRegex, /custom rule "bad_pattern": invalid pattern/],
    ["a custom rule without maxLength", () => noMaxLength, /custom rule "no_limit": maxLength is required/],
  ];
  for (const [name, gateway, message] of cases) {
    it(`answers 500 in each route's shape for ${name}, every time, without calling the upstream`, async () => {
      const before = mock.requests.length;
      for (let attempt = 0; attempt < 2; attempt++) {
        const openai = await post(gateway(), ROUTES.chat.path, ROUTES.chat.body);
        expect(openai.status).toBe(500);
        const o = (await openai.json()) as { error: { message: string; code: string } };
        expect(o.error.message).toMatch(message);
        expect(o.error.message).toContain("GUARDRAIL_RULES");
        expect(o.error.code).toBe("internal_error");
      }
      const anthropic = await post(gateway(), ROUTES.anthropic.path, ROUTES.anthropic.body);
      expect(anthropic.status).toBe(500);
      expect(await anthropic.json()).toEqual({
        type: "error",
        error: { type: "api_error", message: expect.stringMatching(message) },
      });
      const gemini = await post(gateway(), ROUTES.gemini.path, ROUTES.gemini.body);
      expect(gemini.status).toBe(500);
      expect(await gemini.json()).toEqual({
        error: { code: 500, message: expect.stringMatching(message), status: "INTERNAL" },
      });
      const unified = await post(gateway(), ROUTES.unified.path, ROUTES.unified.body);
      expect(unified.status).toBe(500);
      expect(mock.requests.length).toBe(before);
    });
  }
});
