import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import * as client from "../../../src/client/protocol.ts";
import * as gateway from "../../../src/protocol.ts";
import * as socket from "../../../src/socket/protocol.ts";
import { SseDecoder } from "../../../src/sse/decoder.ts";
import { openAiChatFormat } from "../../../src/upstream/openai-chat/format.ts";

// src/client/protocol.ts copies the gateway's wire constants on purpose: the browser client ships as
// one file without dependencies. This suite fails as soon as one side changes without the other.

const { CLIENT_HEADER, MEDIA_TYPE, DONE_SENTINEL, CONTENT_FILTER_REASON } = client;
const { HEADER, EVENT_STREAM_TYPE, SSE_RESPONSE_HEADERS } = gateway;

/**
 * Every gateway header, and whether the client needs it. A header added to `HEADER` fails the key
 * comparison below until someone decides here whether the client must copy it.
 */
const GATEWAY_HEADERS: Readonly<Record<keyof typeof HEADER, "copied" | "not needed">> = {
  // Read from the chat response: the id to resume, and the token that proves the right to.
  streamId: "copied",
  resumeToken: "copied",
  // Sent on resume: the cursor.
  lastEventId: "copied",
  // The client takes the gateway's default (resumable) and never asks for a plain stream.
  resumable: "not needed",
  // Timings, the retry hint on 429 and request ids are for people and tools, not for resuming.
  serverTiming: "not needed",
  retryAfter: "not needed",
  requestId: "not needed",
  // The client reads the error from the body, in its own format.
  gatewayError: "not needed",
  // Which target answered and after how many attempts: for logs and people; resuming needs neither.
  gatewayTarget: "not needed",
  gatewayAttempts: "not needed",
  continuation: "not needed",
  // The AI SDK's UI message stream marker, on /v1/ui/chat only: the browser client speaks OpenAI chunks.
  uiMessageStream: "not needed",
};

/** Headers the client names that are plain HTTP, not the gateway's own. */
const HTTP_HEADERS = {
  accept: "accept",
  contentType: "content-type",
  contentLength: "content-length",
} as const;

/** The text of every string literal in a source file (parsed, so comments and JSDoc never count). */
function stringLiterals(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest);
  const out: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isStringLiteralLike(node) || ts.isTemplateLiteralToken(node)) out.push(node.text);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

describe("the client's copy of the wire protocol", () => {
  it("classifies every gateway header: a new one must be copied or declared not needed", () => {
    expect(Object.keys(GATEWAY_HEADERS).sort()).toEqual(Object.keys(HEADER).sort());
  });

  it("copies every gateway header it needs, with the gateway's value", () => {
    for (const [key, need] of Object.entries(GATEWAY_HEADERS)) {
      if (need !== "copied") continue;
      expect(CLIENT_HEADER, key).toHaveProperty(key, HEADER[key as keyof typeof HEADER]);
    }
  });

  it("names no header of its own besides plain HTTP ones: every other one is a copy under the gateway's key", () => {
    const copied = Object.keys(GATEWAY_HEADERS).filter(
      (key) => GATEWAY_HEADERS[key as keyof typeof HEADER] === "copied",
    );
    expect(Object.keys(CLIENT_HEADER).sort()).toEqual([...copied, ...Object.keys(HTTP_HEADERS)].sort());
    for (const [key, value] of Object.entries(HTTP_HEADERS)) expect(CLIENT_HEADER).toHaveProperty(key, value);
  });

  it("agrees on every constant both sides define under one name", () => {
    // Today the two modules share no export name; a shared one (ERROR_CODE, STREAM_OUTCOME...) must match.
    const shared = Object.keys(client).filter((name) => Object.hasOwn(gateway, name));
    for (const name of shared) {
      expect((client as Record<string, unknown>)[name], name).toEqual(
        (gateway as Record<string, unknown>)[name],
      );
    }
  });

  it("expects the event stream the gateway sends", () => {
    expect(MEDIA_TYPE.eventStream).toBe(EVENT_STREAM_TYPE);
    // What the gateway answers with must be recognisable as what the client asked for.
    expect(SSE_RESPONSE_HEADERS[HTTP_HEADERS.contentType].startsWith(MEDIA_TYPE.eventStream)).toBe(true);
  });

  it("ends and filters an OpenAI stream by the same words the gateway writes", () => {
    const blocked = openAiChatFormat.blockedEvents("deny_terms");
    // A stream the guardrail stopped: a content_filter finish, then the sentinel.
    expect(blocked.at(-1)?.data).toBe(DONE_SENTINEL);
    const finish = JSON.parse(blocked[0]?.data ?? "{}") as { choices?: { finish_reason?: unknown }[] };
    expect(finish.choices?.[0]?.finish_reason).toBe(CONTENT_FILTER_REASON);
    // And the gateway reads the client's sentinel as the normal end.
    const [done] = new SseDecoder().push(`data: ${DONE_SENTINEL}\n\n`);
    expect(done === undefined ? undefined : openAiChatFormat.inspect(done).signal).toBe("complete");
  });

  it("speaks the gateway's socket protocol: the same message types, path and gone-for-good codes", () => {
    for (const [key, value] of Object.entries(client.SOCKET_CLIENT_MESSAGE))
      expect(socket.CLIENT_MESSAGE, key).toHaveProperty(key, value);
    for (const [key, value] of Object.entries(client.SOCKET_SERVER_MESSAGE))
      expect(socket.SERVER_MESSAGE, key).toHaveProperty(key, value);
    expect(client.SOCKET_ROUTE.path).toBe(socket.SOCKET_PATH);
    for (const [key, value] of Object.entries(client.GONE_CODE))
      expect(gateway.ERROR_CODE, key).toHaveProperty(key, value);
  });

  it("keeps no other copy: the rest of the client uses no gateway wire value as a literal", () => {
    // A literal outside src/client/protocol.ts would drift unseen by the checks above.
    const wire = new Set<string>([
      ...Object.values(HEADER),
      EVENT_STREAM_TYPE,
      ...Object.values(gateway.ERROR_CODE),
      ...Object.values(gateway.STREAM_OUTCOME),
      DONE_SENTINEL,
      CONTENT_FILTER_REASON,
      // Dotted socket message types only: "event" and "error" are also ordinary words of the client.
      ...[...Object.values(socket.CLIENT_MESSAGE), ...Object.values(socket.SERVER_MESSAGE)].filter((t) =>
        t.includes("."),
      ),
      ...Object.values(socket.SOCKET_ERROR),
      socket.SOCKET_PATH,
    ]);
    const dir = path.resolve(import.meta.dirname, "../../../src/client");
    const found: string[] = [];
    for (const file of readdirSync(dir)) {
      if (!file.endsWith(".ts") || file === "protocol.ts") continue;
      for (const literal of stringLiterals(path.join(dir, file))) {
        if (wire.has(literal)) found.push(`${file}: "${literal}"`);
      }
    }
    expect(found).toEqual([]);
  });
});
