import type { ServerResponse } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalGateway, startGateway } from "../support/gateway.ts";
import { MockUpstream, type ReceivedRequest, startSse } from "../support/mock-upstream.ts";
import { readToEnd } from "../support/read-to-end.ts";
import {
  anthropicStream,
  clientEvents,
  dataOf,
  fixedPieces,
  openAiChatStream,
  randomPieces,
  SECRETS,
  writeBytewise,
  writeEvents,
} from "./guardrail-support.ts";

/** The LLM provider, and the classifier services (one server answering each service's own path). */
const llm = new MockUpstream();
const guard = new MockUpstream();
const GATEWAY_KEY = "gk-e2e-classifiers-0123456789";
const MARK = "FORBIDDEN";

/** How the mock services answer: by the text they are sent, failing, or never. */
let behaviour: "judge" | "fail" | "hang" = "judge";

/** The text a service was sent, read from its own documented request shape. */
function sentText(req: ReceivedRequest): string {
  const body = JSON.parse(req.body) as {
    messages?: { role: string; content: string }[];
    input?: string;
    text?: string;
  };
  if (req.url === "/v1/moderations") return body.input ?? "";
  if (req.url === "/classify") return body.text ?? "";
  return (body.messages ?? []).map((m) => m.content).join("\n");
}

/** What each service answers for `flagged`, in its own response shape. */
function answerOf(url: string, flagged: boolean): unknown {
  switch (url) {
    case "/v2/guard":
      return {
        flagged,
        metadata: { request_uuid: "e2e" },
        breakdown: [{ project_id: "p", policy_id: "q", detector_type: "prompt_attack", detected: flagged }],
      };
    case "/v1/moderations":
      return {
        id: "modr-e2e",
        model: "omni-moderation-latest",
        results: [{ flagged, categories: { violence: flagged, hate: false }, category_scores: {} }],
      };
    case "/v1/guardrail/checks":
      return {
        status: flagged ? "blocked" : "success",
        rails_status: { "self check output": { status: flagged ? "blocked" : "success" } },
      };
    default:
      return { flagged, categories: flagged ? ["policy"] : [] };
  }
}

/** The window text of every call the services received since `from`. */
function callsSince(from: number): string[] {
  return guard.requests.slice(from).map(sentText);
}

let hold: LocalGateway;
let failOpen: LocalGateway;
let failClosed: LocalGateway;
let asyncMode: LocalGateway;
let prompt: LocalGateway;
let capped: LocalGateway;

beforeAll(async () => {
  await Promise.all([llm.start(), guard.start()]);
  guard.handle(async (req, res) => {
    if (behaviour === "hang") return; // never answers: the gateway's timeoutMs must
    if (behaviour === "fail") {
      res.writeHead(503, { "content-type": "application/json" }).end('{"error":"overloaded"}');
      return;
    }
    const flagged = sentText(req).includes(MARK);
    res
      .writeHead(200, { "content-type": "application/json" })
      .end(JSON.stringify(answerOf(req.url, flagged)));
  });
  const base = {
    OPENAI_BASE_URL: `${llm.baseUrl}/openai/v1`,
    OPENAI_API_KEY: "sk-e2e-openai",
    ANTHROPIC_BASE_URL: `${llm.baseUrl}/anthropic`,
    ANTHROPIC_API_KEY: "sk-ant-e2e",
    LAKERA_API_KEY: "lk-e2e-lakera",
    GATEWAY_KEYS: JSON.stringify([{ name: "e2e", key: GATEWAY_KEY }]),
  };
  const start = (classifiers: unknown[], mode = "enforce") =>
    startGateway({ ...base, GUARDRAIL_MODE: mode, GUARDRAIL_RULES: JSON.stringify({ classifiers }) });
  const url = guard.baseUrl;
  [hold, failOpen, failClosed, asyncMode, prompt, capped] = await Promise.all([
    start([{ name: "lakera", kind: "lakera", url, everyTokens: 4, contextTokens: 8, applyTo: ["output"] }]),
    start([
      {
        name: "own",
        kind: "http",
        url,
        everyTokens: 4,
        timeoutMs: 300,
        onError: "open",
        applyTo: ["output"],
      },
    ]),
    start([
      {
        name: "own",
        kind: "http",
        url,
        everyTokens: 4,
        timeoutMs: 300,
        onError: "closed",
        applyTo: ["output"],
      },
    ]),
    start([
      { name: "mod", kind: "openai-moderation", url, mode: "async", everyTokens: 4, applyTo: ["output"] },
    ]),
    start([{ name: "nemo", kind: "nemo", url, configId: "safety", applyTo: ["prompt"] }]),
    start([{ name: "own", kind: "http", url, everyTokens: 2, maxCallsPerStream: 3, applyTo: ["output"] }]),
  ]);
});

afterAll(async () => {
  await Promise.all([hold, failOpen, failClosed, asyncMode, prompt, capped].map((g) => g?.dispose()));
  await Promise.all([llm.stop(), guard.stop()]);
});

function post(gw: LocalGateway, body: unknown, resumable: boolean, path = "/openai/v1/chat/completions") {
  return fetch(new URL(path, gw.url), {
    method: "POST",
    headers: {
      "content-type": "application/json",
      authorization: `Bearer ${GATEWAY_KEY}`,
      "x-resumable": String(resumable),
    },
    body: JSON.stringify(body),
  });
}

/** A resumable stream's status, as its owner reads it. */
async function statusOf(gw: LocalGateway, id: string | null): Promise<unknown> {
  if (id === null) throw new Error("the stream is not resumable");
  const res = await fetch(new URL(`/v1/streams/${id}/status`, gw.url), {
    headers: { authorization: `Bearer ${GATEWAY_KEY}` },
  });
  return res.json();
}

const BODY = { model: "gpt-e2e", stream: true, messages: [{ role: "user", content: "tell me a story" }] };

/** The content text a chat client shows, from the events it received. */
function contentOf(text: string): string {
  let out = "";
  for (const ev of clientEvents(text)) {
    const data = dataOf(ev) as { choices?: { delta?: { content?: unknown } }[] } | undefined;
    const c = data?.choices?.[0]?.delta?.content;
    if (typeof c === "string") out += c;
  }
  return out;
}

interface Streamed {
  readonly text: string;
  readonly streamId: string | null;
  readonly upstream: ReceivedRequest;
  readonly calls: string[];
}

/** Streams `events` from the LLM mock (optionally one byte per write, optionally never ending) through `gw`. */
async function stream(
  gw: LocalGateway,
  events: readonly string[],
  opts: { bytewise?: boolean; resumable?: boolean; hang?: boolean } = {},
): Promise<Streamed> {
  llm.handle(async (_req, res: ServerResponse) => {
    startSse(res);
    if (opts.hang === true) {
      for (const e of events) res.write(e);
      return; // keeps the connection open: only the gateway can end it
    }
    await (opts.bytewise === true ? writeBytewise(res, events) : writeEvents(res, events));
  });
  const before = llm.requests.length;
  const calls = guard.requests.length;
  const res = await post(gw, BODY, opts.resumable ?? true);
  expect(res.status).toBe(200);
  const text = await readToEnd(res, 25_000);
  const upstream = llm.requests[before];
  if (upstream === undefined) throw new Error("the LLM mock received no request");
  return { text, streamId: res.headers.get("x-stream-id"), upstream, calls: callsSince(calls) };
}

const STORY =
  "Once upon a time a fox lived by a river. Every morning it crossed the bridge, ünïcödé 日本 👩‍💻, " +
  "and greeted the heron. One day the heron said FORBIDDEN words and the fox ran home. The end came later.";
const CLEAN = STORY.replace(MARK, "friendly");

/** Where each window the services were sent ends in STORY (its context and new text are a piece of it). */
function windowEnds(calls: readonly string[], prefix: string): number[] {
  return calls.map((c) => {
    const window = c.startsWith(prefix) ? c.slice(prefix.length) : c;
    const at = STORY.indexOf(window);
    if (at < 0) throw new Error(`a window that is not part of the answer: ${JSON.stringify(window)}`);
    return at + window.length;
  });
}

/**
 * What a blocked stream must look like: none of the flagged window's new text reached the client (the
 * client's text ends where the window before it ended), and the stream ends naming the classifier.
 */
function expectBlocked(r: Streamed, name: string, prefix = ""): void {
  const content = contentOf(r.text);
  expect(r.text).not.toContain(MARK);
  expect(STORY.startsWith(content)).toBe(true);
  const ends = windowEnds(r.calls, prefix);
  const flagged = ends[r.calls.findIndex((c) => c.includes(MARK))];
  if (flagged === undefined) throw new Error("no window was flagged");
  const before = Math.max(0, ...ends.filter((e) => e < flagged));
  expect(content.length).toBeLessThanOrEqual(before);
  expect(r.text).toContain('"finish_reason":"content_filter"');
  expect(r.text).toContain(`"guardrail":{"classifier":"${name}"}`);
  expect(r.text).not.toContain('"finish_reason":"stop"');
}

/** Lakera is sent the last user message first. */
const USER = "tell me a story\n";

describe("hold mode: a flagged window never reaches the client", () => {
  const splits: [string, string[], { bytewise?: boolean; resumable?: boolean }][] = [
    ["one character per event", fixedPieces(STORY, 1), {}],
    ["3 characters per event, direct", fixedPieces(STORY, 3), { resumable: false }],
    ["random pieces of 1-13 characters", randomPieces(STORY, 7, 13), {}],
    ["random pieces of 1-40 characters, direct", randomPieces(STORY, 8, 40), { resumable: false }],
    ["the whole text in one event", [STORY], {}],
    ["the SSE bytes split at every byte boundary", fixedPieces(STORY, 5), { bytewise: true }],
  ];
  for (const [name, pieces, opts] of splits) {
    it(`lakera blocks mid-stream with ${name}`, async () => {
      const r = await stream(hold, openAiChatStream(pieces), opts);
      expectBlocked(r, "lakera", USER);
      // The window the mock flagged is one the gateway sent, with the user's message first.
      expect(r.calls.some((c) => c.includes(MARK))).toBe(true);
      expect(r.calls.every((c) => c.startsWith("tell me a story\n"))).toBe(true);
    });
  }

  it("aborts the upstream when it blocks, even one that never ends", async () => {
    const r = await stream(hold, openAiChatStream(fixedPieces(STORY, 4)).slice(0, -2), { hang: true });
    expectBlocked(r, "lakera", USER);
    await r.upstream.closed;
  });

  it("passes a clean answer whole, byte for byte, with every window classified before [DONE]", async () => {
    const sent = openAiChatStream(fixedPieces(CLEAN, 3));
    const r = await stream(hold, sent);
    expect(clientEvents(r.text)).toEqual(sent.flatMap((e) => e.split(/(?<=\n\n)/).filter((x) => x !== "")));
    // The windows (each after 8 tokens of context) cover the answer: its last words were judged too.
    expect(r.calls.join("")).toContain("The end came later.");
  });

  it("records the stream as blocked, naming the classifier in its status", async () => {
    const r = await stream(hold, openAiChatStream(fixedPieces(STORY, 6)));
    expectBlocked(r, "lakera", USER);
    const status = (await statusOf(hold, r.streamId)) as { state?: string; detail?: string };
    expect(status.state).toBe("blocked");
    expect(status.detail).toBe('guardrail_blocked: the answer was stopped by guardrail classifier "lakera"');
  });
});

describe("hold mode in tool-call arguments and non-streaming answers", () => {
  it("blocks a flagged window of tool-call arguments before it reaches the client", async () => {
    const args = JSON.stringify({ notes: STORY });
    const r = await stream(hold, openAiChatStream(fixedPieces(args, 3), "tool"));
    expect(r.text).not.toContain(MARK);
    expect(r.text).toContain('"guardrail":{"classifier":"lakera"}');
    let received = "";
    for (const ev of clientEvents(r.text)) {
      const data = dataOf(ev) as
        | { choices?: { delta?: { tool_calls?: { function?: { arguments?: string } }[] } }[] }
        | undefined;
      received += data?.choices?.[0]?.delta?.tool_calls?.[0]?.function?.arguments ?? "";
    }
    expect(args.startsWith(received)).toBe(true);
    expect(received.length).toBeLessThan(args.indexOf(MARK));
  });

  it("blocks a flagged window of Anthropic thinking, in Anthropic's own terms", async () => {
    llm.handle(async (_req, res) => {
      startSse(res);
      await writeEvents(res, anthropicStream(fixedPieces(STORY, 4), fixedPieces(CLEAN, 4)));
    });
    const body = { model: "claude-e2e", stream: true, max_tokens: 64, messages: BODY.messages };
    const res = await post(hold, body, true, "/anthropic/v1/messages");
    expect(res.status).toBe(200);
    const text = await readToEnd(res, 25_000);
    expect(text).not.toContain(MARK);
    // Nothing of the answer's text block: the flagged thinking came first and ended the stream.
    expect(text).not.toContain('"text_delta"');
    expect(text).toContain('"stop_reason":"refusal"');
    expect(text).toContain('guardrail classifier \\"lakera\\"');
  });

  it("classifies a non-streaming answer whole and answers the format's blocked shape", async () => {
    const answer = {
      id: "chatcmpl-e2e",
      object: "chat.completion",
      created: 1,
      model: "gpt-e2e",
      choices: [{ index: 0, message: { role: "assistant", content: STORY }, finish_reason: "stop" }],
    };
    llm.handle((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(answer));
    });
    const calls = guard.requests.length;
    const res = await post(hold, { ...BODY, stream: false }, false);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).not.toContain(MARK);
    const json = JSON.parse(text) as { choices: { finish_reason: string }[]; guardrail?: unknown };
    expect(json.choices[0]?.finish_reason).toBe("content_filter");
    expect(json.guardrail).toEqual({ classifier: "lakera" });
    expect(callsSince(calls).some((c) => c.includes(MARK))).toBe(true);
  });

  it("passes a clean non-streaming answer byte for byte", async () => {
    const answer = `{"id":"chatcmpl-e2e", "object":"chat.completion", "created":1, "model":"gpt-e2e", "choices":[{"index":0,"message":{"role":"assistant","content":${JSON.stringify(CLEAN)}},"finish_reason":"stop"}]}`;
    llm.handle((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" }).end(answer);
    });
    const res = await post(hold, { ...BODY, stream: false }, false);
    expect(await res.text()).toBe(answer);
  });
});

describe("with a redact rule", () => {
  it("never sends the classifier a secret the rules redact", async () => {
    const secret = SECRETS.openai_key;
    const text = `Your key is ${secret} and the story goes on for a while longer here.`;
    const r = await stream(hold, openAiChatStream(fixedPieces(text, 3)));
    const sent = r.calls.join("\n");
    expect(r.calls.length).toBeGreaterThan(1);
    expect(sent).not.toContain(secret.slice(0, 12));
    expect(sent).toContain("[REDACTED:openai_key]");
    expect(contentOf(r.text)).toBe(text.replace(secret, "[REDACTED:openai_key]"));
  });
});

describe("a slow or failing classifier", () => {
  it("onError open: a service that fails lets the answer through", async () => {
    behaviour = "fail";
    try {
      const r = await stream(failOpen, openAiChatStream(fixedPieces(STORY, 5)));
      expect(contentOf(r.text)).toBe(STORY);
      expect(r.calls.length).toBeGreaterThan(0);
    } finally {
      behaviour = "judge";
    }
  });

  it("onError open: a service that never answers times out and the answer goes on", async () => {
    behaviour = "hang";
    try {
      const r = await stream(failOpen, openAiChatStream(fixedPieces(CLEAN, 20)));
      expect(contentOf(r.text)).toBe(CLEAN);
    } finally {
      behaviour = "judge";
    }
  });

  it("onError closed: a service that never answers blocks with the reason", async () => {
    behaviour = "hang";
    try {
      const r = await stream(failClosed, openAiChatStream(fixedPieces(CLEAN, 20)), { resumable: false });
      expect(contentOf(r.text)).toBe("");
      expect(r.text).toContain('"guardrail":{"classifier":"own"}');
    } finally {
      behaviour = "judge";
    }
  });

  it("onError closed: a failing service blocks, the reason in the stream's status", async () => {
    behaviour = "fail";
    try {
      const r = await stream(failClosed, openAiChatStream(fixedPieces(CLEAN, 20)));
      expect(contentOf(r.text)).toBe("");
      const status = (await statusOf(failClosed, r.streamId)) as { state?: string; detail?: string };
      expect(status.state).toBe("blocked");
      expect(status.detail).toContain(
        'guardrail classifier "own" was unavailable (http 503) and fails closed',
      );
    } finally {
      behaviour = "judge";
    }
  });
});

describe("async mode", () => {
  it("lets the text flow and ends the stream once the flagging verdict arrives", async () => {
    const r = await stream(asyncMode, openAiChatStream(fixedPieces(STORY, 3)));
    expect(r.calls.some((c) => c.includes(MARK))).toBe(true);
    expect(r.text).toContain('"guardrail":{"classifier":"mod"}');
    // The upstream's own [DONE] never reached the client: the block's ending replaced it.
    expect(r.text.match(/data: \[DONE\]/g)).toHaveLength(1);
  });

  it("passes a clean answer unchanged", async () => {
    const r = await stream(asyncMode, openAiChatStream(fixedPieces(CLEAN, 3)));
    expect(contentOf(r.text)).toBe(CLEAN);
    expect(r.text).not.toContain('"guardrail"');
  });
});

describe("the prompt classifier", () => {
  it("refuses a flagged prompt with 400 in the provider's error shape, before any upstream call", async () => {
    const before = llm.requests.length;
    const calls = guard.requests.length;
    const res = await post(
      prompt,
      { ...BODY, messages: [{ role: "user", content: `say ${MARK} now` }] },
      true,
    );
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error?: { code?: string; message?: string } };
    expect(body.error?.code).toBe("guardrail_blocked");
    expect(body.error?.message).toContain('guardrail classifier "nemo"');
    expect(llm.requests.length).toBe(before);
    const sent = JSON.parse(guard.requests[calls]?.body ?? "{}") as Record<string, unknown>;
    expect(guard.requests[calls]?.url).toBe("/v1/guardrail/checks");
    expect(sent.guardrails).toEqual({ config_id: "safety" });
  });

  it("lets a clean prompt through, and does not classify the answer (applyTo prompt only)", async () => {
    const calls = guard.requests.length;
    const r = await stream(prompt, openAiChatStream(fixedPieces(STORY, 10)));
    expect(contentOf(r.text)).toBe(STORY);
    expect(guard.requests.length - calls).toBe(1);
  });
});

describe("the cap on calls", () => {
  it("makes at most maxCallsPerStream calls; onError open lets the rest pass", async () => {
    const r = await stream(capped, openAiChatStream(fixedPieces(STORY, 2)));
    expect(r.calls).toHaveLength(3);
    // The flagged text lies past the third window: with the cap reached it passes (recorded as cap).
    expect(contentOf(r.text)).toBe(STORY);
  });
});
