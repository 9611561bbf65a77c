import { describe, expect, it } from "vitest";
import { parseGuardrailConfig } from "../../../src/guardrail/config.ts";
import {
  type ResponsesPorts,
  ResponsesRelay,
  type ResponseTimings,
} from "../../../src/socket/responses-relay.ts";
import { openAiResponsesFormat } from "../../../src/upstream/openai-responses/format.ts";

function guardrail() {
  const parsed = parseGuardrailConfig("enforce", "");
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.config;
}

/** Ports over fakes: a clock the test moves, what the client got, what went upstream, what was recorded. */
function harness() {
  let clock = 1000;
  const client: string[] = [];
  const upstream: string[] = [];
  const records: ResponseTimings[] = [];
  const closes: number[] = [];
  let deliver: (text: string) => void = () => {};
  let die: () => void = () => {};
  const ports: ResponsesPorts = {
    sendClient: (t) => client.push(t),
    closeClient: (code) => closes.push(code),
    openUpstream: (onMessage, onClose) => {
      deliver = onMessage;
      die = onClose;
      return Promise.resolve({ send: (t) => upstream.push(t), close: () => undefined });
    },
    guardPrompt: () => ({ changed: false }),
    record: (t) => records.push(t),
    now: () => clock,
  };
  const relay = new ResponsesRelay(ports, openAiResponsesFormat, guardrail(), 1 << 20);
  return {
    relay,
    client,
    upstream,
    records,
    closes,
    tick: (ms: number) => {
      clock += ms;
    },
    deliver: (e: unknown) => deliver(JSON.stringify(e)),
    die: () => die(),
  };
}

const delta = (d: string) => ({
  type: "response.output_text.delta",
  output_index: 0,
  content_index: 0,
  delta: d,
});

describe("ResponsesRelay", () => {
  it("records each response's TTFT from its response.create to its first text delta, and its outcome", async () => {
    const h = harness();
    h.relay.fromClient(JSON.stringify({ type: "response.create", model: "gpt-4.1", input: "x" }));
    await Promise.resolve();
    h.tick(40);
    h.deliver({ type: "response.created", response: { id: "r1" } });
    h.tick(60);
    h.deliver(delta("Hi "));
    h.tick(10);
    h.deliver({ type: "response.completed", response: { id: "r1", status: "completed", output: [] } });
    expect(h.upstream).toEqual([JSON.stringify({ type: "response.create", model: "gpt-4.1", input: "x" })]);
    expect(h.records).toEqual([
      expect.objectContaining({
        model: "gpt-4.1",
        receivedAt: 1000,
        firstContentAt: 1100,
        endedAt: 1110,
        contentEvents: 1,
        outcome: "complete",
        guardrail: "none",
      }),
    ]);
    expect(h.client.map((t) => (JSON.parse(t) as { type: string }).type)).toEqual([
      "response.created",
      "response.output_text.delta",
      "response.completed",
    ]);
  });

  it("records an interrupted response when the upstream dies, after the error event and before the 1011 close", async () => {
    const h = harness();
    h.relay.fromClient(JSON.stringify({ type: "response.create", model: "m", input: "x" }));
    await Promise.resolve();
    h.deliver(delta("part"));
    h.die();
    const last = JSON.parse(h.client.at(-1) ?? "{}") as { type: string; error: { code: string } };
    expect(last).toMatchObject({ type: "error", error: { code: "upstream_interrupted" } });
    expect(h.records.map((r) => r.outcome)).toEqual(["interrupted"]);
    expect(h.closes).toEqual([1011]);
  });
});
