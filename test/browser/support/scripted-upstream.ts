import type { ServerResponse } from "node:http";
import { type LocalGateway, startGateway } from "../../support/gateway.ts";
import { MockUpstream, type ReceivedRequest, startSse } from "../../support/mock-upstream.ts";

/** The model the page selects to reach the mock: an alias, so the gateway's model list offers it. */
export const SCRIPTED_MODEL = "scripted";

/** A word the guardrail of the scripted gateway blocks (a deny term with action block). */
export const BLOCKED_TERM = "Project Falcon";

/** A promise the test resolves when the mock may go on. */
export interface Gate {
  readonly opened: Promise<void>;
  open(): void;
}

/** A closed gate. */
export function gate(): Gate {
  let open = (): void => undefined;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

/** One step of a scripted answer: a piece of text to stream, or a gate to wait at. */
export type Step = string | Gate;

/** One OpenAI chat chunk carrying `content` (or only a finish reason). */
function chunk(content: string | null, finish: string | null = null): string {
  const delta = content === null ? {} : { content };
  const body = {
    id: "chatcmpl-scripted",
    object: "chat.completion.chunk",
    created: 1,
    model: "gpt-scripted",
    choices: [{ index: 0, delta, finish_reason: finish }],
  };
  return `data: ${JSON.stringify(body)}\n\n`;
}

/** Streams `steps` as an OpenAI chat answer, waiting at each gate, then the finish chunk and [DONE]. */
export async function streamSteps(res: ServerResponse, steps: readonly Step[]): Promise<void> {
  startSse(res);
  for (const step of steps) {
    if (typeof step === "string") res.write(chunk(step));
    else await step.opened;
    if (res.destroyed) return;
  }
  res.end(`${chunk(null, "stop")}data: [DONE]\n\n`);
}

/** The text a scripted answer streams. */
export function textOf(steps: readonly Step[]): string {
  return steps.filter((s) => typeof s === "string").join("");
}

/** The messages of a chat request the mock received. */
export function messagesOf(request: ReceivedRequest | undefined): unknown {
  return request === undefined ? undefined : (JSON.parse(request.body) as { messages?: unknown }).messages;
}

/** A mock OpenAI upstream and a gateway in front of it that offers it as the model `scripted`. */
export interface ScriptedGateway {
  readonly mock: MockUpstream;
  readonly gateway: LocalGateway;
  /** The next chat requests are answered with `steps`. */
  answer(steps: readonly Step[]): void;
  dispose(): Promise<void>;
}

/**
 * Starts the mock and a gateway that reaches it as `openai/gpt-scripted` (alias `scripted`), with the
 * demo provider at a quick pace and a guardrail that blocks BLOCKED_TERM.
 */
export async function startScriptedGateway(): Promise<ScriptedGateway> {
  const mock = new MockUpstream();
  await mock.start();
  const gateway = await startGateway({
    OPENAI_BASE_URL: `${mock.baseUrl}/v1`,
    OPENAI_API_KEY: "sk-browser-test",
    MODEL_ALIASES: JSON.stringify({ [SCRIPTED_MODEL]: "openai/gpt-scripted" }),
    GUARDRAIL_RULES: JSON.stringify({ denyTerms: { terms: [BLOCKED_TERM], action: "block" } }),
    DEMO_FIRST_TOKEN_MS: "100",
    DEMO_TOKEN_INTERVAL_MS: "30",
  });
  return {
    mock,
    gateway,
    answer: (steps) => mock.handle((_req, res) => streamSteps(res, steps)),
    dispose: async () => {
      await gateway.dispose();
      await mock.stop();
    },
  };
}
