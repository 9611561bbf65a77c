import type { ServerResponse } from "node:http";
import { splitTimings } from "../support/timings.ts";

/**
 * Fake but format-valid secrets and PII, one per built-in rule, keyed by the rule's stable name. Each is
 * what the rule's detector matches in full (checked by the unit tests of the detectors); none is real.
 */
export const SECRETS = {
  openai_key: "sk-proj-Fake0penAIkey_E2E-0123456789abcdefXYZ",
  anthropic_key: "sk-ant-api03-FakeClaudeKey_E2E-0123456789abcdef-XYZ",
  // AWS's own documentation example.
  aws_access_key_id: "AKIAIOSFODNN7EXAMPLE",
  github_token: `ghp_${"FakeGitHubTokenE2E0123456789abcdefgh"}`,
  slack_token: "xoxb-123456789012-1234567890123-FakeSlackE2Etoken",
  google_api_key: `AIza${"SyFakeGoogleKey_E2E-0123456789abcde"}`,
  // Header {"alg":"HS256","typ":"JWT"}, payload {"sub":"e2e-fake","name":"Fake User"}, a fake signature.
  jwt: "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJlMmUtZmFrZSIsIm5hbWUiOiJGYWtlIFVzZXIifQ.ZmFrZS1zaWduYXR1cmUtZm9yLWUyZS10ZXN0cw",
  private_key:
    "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDFakeE2EkeyData\nRmFrZSBwcml2YXRlIGtleSBib2R5IGZvciBlMmUgdGVzdHMgb25seSBub3QgcmVh\nbA==\n-----END PRIVATE KEY-----",
  // Visa's test number: Luhn-valid, printed with spaces.
  payment_card: "4111 1111 1111 1111",
  // The ISO 13616 example IBAN (valid mod-97 checksum), printed in groups.
  iban: "DE89 3704 0044 0532 0130 00",
  us_ssn: "219-09-9999",
  email: "jane.fake.e2e@example.org",
  // Ofcom's range reserved for drama.
  phone: "+44 20 7946 0958",
} as const;

/** A built-in rule name. */
export type RuleName = keyof typeof SECRETS;

/** Every built-in rule, in the order the texts below use them. */
export const RULES = Object.keys(SECRETS) as RuleName[];

/** The default mask of a rule. */
export function maskOf(rule: string): string {
  return `[REDACTED:${rule}]`;
}

/** A piece of a scripted text: plain text, or the secret of a rule. */
export type Piece = string | { readonly rule: RuleName };

/** A text with secrets in known places, and what `enforce` with every rule on `redact` must make of it. */
export interface Scripted {
  readonly text: string;
  readonly expected: string;
  /** Where each secret sits in `text` (UTF-16 offsets). */
  readonly spans: readonly { readonly rule: RuleName; readonly start: number; readonly end: number }[];
  /** The secret values the text contains. */
  readonly secrets: readonly string[];
}

/** Builds a scripted text from pieces. */
export function script(pieces: readonly Piece[]): Scripted {
  let text = "";
  let expected = "";
  const spans: { rule: RuleName; start: number; end: number }[] = [];
  for (const piece of pieces) {
    if (typeof piece === "string") {
      text += piece;
      expected += piece;
      continue;
    }
    const value = SECRETS[piece.rule];
    spans.push({ rule: piece.rule, start: text.length, end: text.length + value.length });
    text += value;
    expected += maskOf(piece.rule);
  }
  return { text, expected, spans, secrets: spans.map((s) => SECRETS[s.rule]) };
}

/**
 * Every secret once, each between multi-byte characters (2-, 3- and 4-byte UTF-8, a ZWJ emoji) so that
 * byte-level splits fall inside characters right next to the matches.
 */
export function secretsPieces(rules: readonly RuleName[] = RULES): Piece[] {
  const pieces: Piece[] = ["Voilà — les clés 🎉:\n"];
  for (const rule of rules) pieces.push(`• ${rule.replaceAll("_", " ")} → `, { rule }, " ✓ 日本\n");
  pieces.push("Fin. Ünïcödé 👩‍💻 done.");
  return pieces;
}

/** `script(secretsPieces(rules))`. */
export function secretsText(rules: readonly RuleName[] = RULES): Scripted {
  return script(secretsPieces(rules));
}

/**
 * The pieces as tool-call arguments, `{"notes":"..."}`: plain text JSON-escaped, secrets as they are (so
 * only secrets without characters JSON escapes are allowed here).
 */
export function asJsonArguments(pieces: readonly Piece[]): Scripted {
  const escaped = pieces.map((p) => {
    if (typeof p === "string") return JSON.stringify(p).slice(1, -1);
    const value = SECRETS[p.rule];
    if (JSON.stringify(value) !== `"${value}"`) throw new Error(`${p.rule} would be escaped in JSON`);
    return p;
  });
  return script(['{"notes":"', ...escaped, '"}']);
}

/** `text` cut into pieces of `size` code points (never inside a surrogate pair, as upstreams do). */
export function fixedPieces(text: string, size: number): string[] {
  const points = Array.from(text);
  const pieces: string[] = [];
  for (let i = 0; i < points.length; i += size) pieces.push(points.slice(i, i + size).join(""));
  return pieces;
}

/** `text` cut into pieces of 1 to `max` code points drawn from a PRNG seeded with `seed`. */
export function randomPieces(text: string, seed: number, max: number): string[] {
  const next = mulberry32(seed);
  const points = Array.from(text);
  const pieces: string[] = [];
  for (let i = 0; i < points.length; ) {
    const size = 1 + Math.floor(next() * max);
    pieces.push(points.slice(i, i + size).join(""));
    i += size;
  }
  return pieces;
}

// mulberry32: a tiny 32-bit PRNG, enough for reproducible cut positions.
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---------------------------------------------------------------------------------------------------
// Provider streams, written the way each provider writes them (framing, field order, extra fields).
// ---------------------------------------------------------------------------------------------------

const j = JSON.stringify;

/** An OpenAI Chat Completions stream of `pieces` as `delta.content` (or tool-call argument) fragments. */
export function openAiChatStream(pieces: readonly string[], as: "content" | "tool" = "content"): string[] {
  // Spaces after the top-level commas: an event the gateway re-encoded would lose them.
  const chunk = (choice: string) =>
    `data: {"id":"chatcmpl-e2e", "object":"chat.completion.chunk", "created":1, "model":"gpt-e2e", "system_fingerprint":"fp_e2e", "choices":[${choice}]}\n\n`;
  const events = [
    as === "content"
      ? chunk('{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}')
      : chunk(
          '{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_e2e","type":"function","function":{"name":"save_notes","arguments":""}}]},"finish_reason":null}',
        ),
  ];
  for (const p of pieces) {
    events.push(
      as === "content"
        ? chunk(`{"index":0,"delta":{"content":${j(p)}},"logprobs":null,"finish_reason":null}`)
        : chunk(
            `{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":${j(p)}}}]},"finish_reason":null}`,
          ),
    );
  }
  events.push(chunk(`{"index":0,"delta":{},"finish_reason":${j(as === "content" ? "stop" : "tool_calls")}}`));
  events.push("data: [DONE]\n\n");
  return events;
}

function anthropicEvent(name: string, data: string): string {
  return `event: ${name}\ndata: ${data}\n\n`;
}

/** An Anthropic Messages stream: a thinking block of `thinking` deltas, then a text block of `text` deltas. */
export function anthropicStream(thinking: readonly string[], text: readonly string[]): string[] {
  const events = [
    anthropicEvent(
      "message_start",
      '{"type":"message_start","message":{"id":"msg_e2e","type":"message","role":"assistant","model":"claude-e2e","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":12,"output_tokens":1}}}',
    ),
  ];
  let index = 0;
  if (thinking.length > 0) {
    events.push(
      anthropicEvent(
        "content_block_start",
        '{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}',
      ),
    );
    for (const t of thinking) {
      events.push(
        anthropicEvent(
          "content_block_delta",
          `{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":${j(t)}}}`,
        ),
      );
    }
    events.push(
      anthropicEvent(
        "content_block_delta",
        '{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"RmFrZVNpZ25hdHVyZUZvclRlc3Rz"}}',
      ),
      anthropicEvent("content_block_stop", '{"type":"content_block_stop","index":0}'),
    );
    index = 1;
  }
  events.push(
    anthropicEvent("ping", '{"type": "ping"}'),
    anthropicEvent(
      "content_block_start",
      `{"type":"content_block_start","index":${index},"content_block":{"type":"text","text":""}}`,
    ),
  );
  for (const t of text) {
    events.push(
      anthropicEvent(
        "content_block_delta",
        `{"type":"content_block_delta","index":${index},"delta":{"type":"text_delta","text":${j(t)}}}`,
      ),
    );
  }
  events.push(
    anthropicEvent("content_block_stop", `{"type":"content_block_stop","index":${index}}`),
    anthropicEvent(
      "message_delta",
      '{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":321}}',
    ),
    anthropicEvent("message_stop", '{"type":"message_stop"}'),
  );
  return events;
}

/** An Anthropic Messages stream calling a tool, its input streamed as `input_json_delta` fragments. */
export function anthropicToolStream(pieces: readonly string[]): string[] {
  return [
    anthropicEvent(
      "message_start",
      '{"type":"message_start","message":{"id":"msg_e2e","type":"message","role":"assistant","model":"claude-e2e","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":12,"output_tokens":1}}}',
    ),
    anthropicEvent(
      "content_block_start",
      '{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"toolu_e2e","name":"save_notes","input":{}}}',
    ),
    ...pieces.map((p) =>
      anthropicEvent(
        "content_block_delta",
        `{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":${j(p)}}}`,
      ),
    ),
    anthropicEvent("content_block_stop", '{"type":"content_block_stop","index":0}'),
    anthropicEvent(
      "message_delta",
      '{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":99}}',
    ),
    anthropicEvent("message_stop", '{"type":"message_stop"}'),
  ];
}

/** A Gemini stream answering with one function call whose `args` arrive whole, as Gemini sends them. */
export function geminiFunctionCallStream(args: unknown): string[] {
  return [
    'data: {"candidates": [{"content": {"parts": [{"text": "Saving."}],"role": "model"},"index": 0}]}\r\n\r\n',
    `data: {"candidates": [{"content": {"parts": [{"functionCall": {"name": "save_notes","args": ${j(args)}}}],"role": "model"},"finishReason": "STOP","index": 0}]}\r\n\r\n`,
  ];
}

/**
 * A Gemini `alt=sse` stream (CRLF framing, spaced JSON as Google writes it): `thoughts` as thought parts,
 * then `text`, each event carrying its piece as two parts when it has two or more characters.
 */
export function geminiStream(thoughts: readonly string[], text: readonly string[]): string[] {
  const asParts = (piece: string, thought: boolean): string => {
    const points = Array.from(piece);
    const cut = Math.ceil(points.length / 2);
    const halves = points.length > 1 ? [points.slice(0, cut).join(""), points.slice(cut).join("")] : [piece];
    return halves.map((h) => `{"text": ${j(h)}${thought ? ', "thought": true' : ""}}`).join(", ");
  };
  const event = (parts: string, extra = "") =>
    `data: {"candidates": [{"content": {"parts": [${parts}],"role": "model"}${extra},"index": 0}],"modelVersion": "gemini-e2e","responseId": "e2e-gemini"}\r\n\r\n`;
  const events = [
    ...thoughts.map((t) => event(asParts(t, true))),
    ...text.map((t) => event(asParts(t, false))),
  ];
  events.push(
    `data: {"candidates": [{"content": {"parts": [],"role": "model"},"finishReason": "STOP","index": 0}],"usageMetadata": {"promptTokenCount": 9,"candidatesTokenCount": 321,"totalTokenCount": 330},"modelVersion": "gemini-e2e","responseId": "e2e-gemini"}\r\n\r\n`,
  );
  return events;
}

/**
 * An OpenAI Responses stream of `pieces` as `response.output_text.delta` events, followed by the events
 * that repeat the whole text (`output_text.done`, `content_part.done`, `output_item.done`, `response.completed`).
 */
export function responsesStream(pieces: readonly string[]): string[] {
  const whole = pieces.join("");
  let seq = 0;
  const event = (type: string, body: string) =>
    `event: ${type}\ndata: {"type":"${type}","sequence_number":${seq++},${body}}\n\n`;
  const item = (status: string, content: string) =>
    `{"id":"msg_e2e","type":"message","status":"${status}","role":"assistant","content":[${content}]}`;
  const part = (text: string) => `{"type":"output_text","annotations":[],"logprobs":[],"text":${j(text)}}`;
  const where = '"item_id":"msg_e2e","output_index":0,"content_index":0';
  const events = [
    event(
      "response.created",
      '"response":{"id":"resp_e2e","object":"response","created_at":1,"status":"in_progress","model":"o-e2e","output":[]}',
    ),
    event("response.output_item.added", `"output_index":0,"item":${item("in_progress", "")}`),
    event("response.content_part.added", `${where},"part":${part("")}`),
  ];
  for (const p of pieces)
    events.push(event("response.output_text.delta", `${where},"delta":${j(p)},"logprobs":[]`));
  events.push(
    event("response.output_text.done", `${where},"text":${j(whole)},"logprobs":[]`),
    event("response.content_part.done", `${where},"part":${part(whole)}`),
    event("response.output_item.done", `"output_index":0,"item":${item("completed", part(whole))}`),
    event(
      "response.completed",
      `"response":{"id":"resp_e2e","object":"response","created_at":1,"status":"completed","model":"o-e2e","output":[${item("completed", part(whole))}],"usage":{"input_tokens":9,"output_tokens":321,"total_tokens":330}}`,
    ),
  );
  return events;
}

// ---------------------------------------------------------------------------------------------------
// Serving and reading.
// ---------------------------------------------------------------------------------------------------

const immediate = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Writes `events`, one network write each (yielding to the event loop in between), then ends. */
export async function writeEvents(res: ServerResponse, events: readonly string[]): Promise<void> {
  for (const e of events) {
    if (res.destroyed) return;
    res.write(e);
    await immediate();
  }
  res.end();
}

/**
 * Writes the UTF-8 bytes of `events` one byte per network write, yielding to the event loop between
 * writes, so every byte boundary (inside multi-byte characters, between CR and LF) is a chunk boundary.
 */
export async function writeBytewise(res: ServerResponse, events: readonly string[]): Promise<void> {
  const bytes = new TextEncoder().encode(events.join(""));
  for (let i = 0; i < bytes.length; i++) {
    if (res.destroyed) return;
    res.write(bytes.subarray(i, i + 1));
    await immediate();
  }
  res.end();
}

/** Removes the `id: N` lines the resumable store adds to every event. */
export function stripIds(text: string): string {
  return text.replace(/^id: \d+(\r\n|\r|\n)/gm, "");
}

/** Splits an SSE text into its event blocks, each with its own blank-line terminator. */
export function splitEvents(text: string): string[] {
  return text.split(/(?<=\r\n\r\n|\n\n)/).filter((e) => e !== "");
}

/** What a client received, with the gateway's additions (ids, timings) taken off. */
export function clientEvents(received: string): string[] {
  const { body, timings } = splitTimings(received);
  if (timings === undefined) throw new Error("the stream did not end with a timings comment");
  return splitEvents(stripIds(body));
}

/** The JSON payload of an event (its `data:` lines joined), or undefined. */
export function dataOf(event: string): unknown {
  const lines = event.split(/\r\n|\r|\n/).filter((l) => l.startsWith("data:"));
  if (lines.length === 0) return undefined;
  const data = lines.map((l) => l.slice(l.startsWith("data: ") ? 6 : 5)).join("\n");
  try {
    return JSON.parse(data);
  } catch {
    return undefined;
  }
}

/** The event's framing: every line except the data line, which is replaced by a placeholder. */
export function framingOf(event: string): string {
  return event.replace(/^data:.*$/gm, "data: <payload>");
}

type Json = Record<string, unknown>;
const isJson = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** One text fragment read out of an event: a channel that continues across events, or a whole copy. */
export interface Fragment {
  readonly channel: string;
  readonly text: string;
  /** True for events that repeat a whole text (Responses `.done`, `response.completed`). */
  readonly whole: boolean;
}

/** Reads the text fragments of one event of any of the four formats, the way a client SDK would. */
export function fragmentsOf(event: string): Fragment[] {
  const data = dataOf(event);
  if (!isJson(data)) return [];
  const out: Fragment[] = [];
  const add = (channel: string, text: unknown, whole = false) => {
    if (typeof text === "string") out.push({ channel, text, whole });
  };
  // OpenAI chat chunks (native or translated).
  for (const choice of list(data.choices)) {
    if (!isJson(choice) || !isJson(choice.delta)) continue;
    const c = String(choice.index ?? 0);
    add(`c${c}/content`, choice.delta.content);
    add(`c${c}/reasoning`, choice.delta.reasoning_content);
    for (const call of list(choice.delta.tool_calls)) {
      if (isJson(call) && isJson(call.function))
        add(`c${c}/tool${String(call.index)}`, call.function.arguments);
    }
  }
  // Anthropic.
  if (data.type === "content_block_delta" && isJson(data.delta)) {
    add(`b${String(data.index)}/text`, data.delta.text);
    add(`b${String(data.index)}/thinking`, data.delta.thinking);
    add(`b${String(data.index)}/input`, data.delta.partial_json);
  }
  // Gemini.
  for (const candidate of list(data.candidates)) {
    if (!isJson(candidate) || !isJson(candidate.content)) continue;
    for (const part of list(candidate.content.parts)) {
      if (isJson(part)) add(part.thought === true ? "thought" : "text", part.text);
    }
  }
  // OpenAI Responses.
  const type = typeof data.type === "string" ? data.type : "";
  const itemTexts = (item: unknown, where: string) => {
    if (!isJson(item)) return;
    for (const p of list(item.content)) if (isJson(p)) add(where, p.text, true);
  };
  if (type === "response.output_text.delta") add("output_text", data.delta);
  if (type === "response.output_text.done") add(type, data.text, true);
  if (type === "response.content_part.done" && isJson(data.part)) add(type, data.part.text, true);
  if (type === "response.output_item.done") itemTexts(data.item, type);
  if (type === "response.completed" && isJson(data.response)) {
    for (const item of list(data.response.output)) itemTexts(item, type);
  }
  return out;
}

/** Every channel's text, the fragments of each event appended in order (whole copies kept apart). */
export function reassemble(events: readonly string[]): { channels: Map<string, string>; wholes: Fragment[] } {
  const channels = new Map<string, string>();
  const wholes: Fragment[] = [];
  for (const e of events) {
    for (const f of fragmentsOf(e)) {
      if (f.whole) wholes.push(f);
      else channels.set(f.channel, (channels.get(f.channel) ?? "") + f.text);
    }
  }
  return { channels, wholes };
}

/** Every string inside a JSON value, JSON-in-strings (tool arguments) decoded too. */
function stringsIn(value: unknown, out: string[] = []): string[] {
  if (typeof value === "string") {
    out.push(value);
    if (/^\s*[[{]/.test(value)) {
      try {
        stringsIn(JSON.parse(value), out);
      } catch {
        // Not JSON (or a fragment of it): the string itself is already searched.
      }
    }
  } else if (Array.isArray(value)) for (const v of value) stringsIn(v, out);
  else if (isJson(value)) for (const v of Object.values(value)) stringsIn(v, out);
  return out;
}

/** A JSON text and every string inside it (JSON-in-strings decoded too), for searching a request body. */
export function stringsOf(json: string): string[] {
  try {
    return [json, ...stringsIn(JSON.parse(json))];
  } catch {
    return [json];
  }
}

/** Every 8-character piece of any of `secrets` that occurs in any of `haystacks`. */
export function secretPieces(haystacks: readonly string[], secrets: readonly string[]): string[] {
  const found = new Set<string>();
  for (const secret of secrets) {
    for (let i = 0; i + 8 <= secret.length; i++) {
      const piece = secret.slice(i, i + 8);
      if (haystacks.some((h) => h.includes(piece))) found.add(piece);
    }
  }
  return [...found];
}

/**
 * Every 8-character piece of any of `secrets` found anywhere in what the client received: the raw text,
 * each event's decoded JSON strings, every reassembled channel (so a secret spread over many events is
 * found), and the JSON decoding of each reassembled channel (tool arguments are JSON text).
 */
export function leaks(received: string, secrets: readonly string[]): string[] {
  const events = splitEvents(stripIds(received));
  const { channels, wholes } = reassemble(events);
  const haystacks = [received, ...wholes.map((w) => w.text)];
  for (const e of events) stringsIn(dataOf(e), haystacks);
  for (const text of channels.values()) stringsIn(text, haystacks);
  return secretPieces(haystacks, secrets);
}

/** Replaces every text fragment of a parsed event by a placeholder, to compare the rest of it. */
export function withoutTexts(v: unknown, key = ""): unknown {
  if (typeof v === "string")
    return [
      "content",
      "arguments",
      "text",
      "thinking",
      "partial_json",
      "delta",
      "reasoning_content",
    ].includes(key)
      ? "<text>"
      : v;
  if (Array.isArray(v)) return v.map((x) => withoutTexts(x));
  if (isJson(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, withoutTexts(x, k)]));
  return v;
}

/** Where each event's fragments sit in their channels (UTF-16 offsets), for the events as sent. */
export function fragmentRanges(
  events: readonly string[],
): { channel: string; start: number; end: number; whole: boolean; text: string }[][] {
  const lengths = new Map<string, number>();
  return events.map((e) =>
    fragmentsOf(e).map((f) => {
      if (f.whole) return { channel: f.channel, start: 0, end: f.text.length, whole: true, text: f.text };
      const start = lengths.get(f.channel) ?? 0;
      lengths.set(f.channel, start + f.text.length);
      return { channel: f.channel, start, end: start + f.text.length, whole: false, text: f.text };
    }),
  );
}

/** Resolves when `check` is true, or after `ms` (returning false then). Polls every event-loop turn. */
export async function until(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 1));
  }
  return true;
}
