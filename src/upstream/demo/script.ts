/**
 * The demo provider's deterministic answers. Each model yields a fixed token list, so tests,
 * the demo page and the benchmark see the same text every time.
 */
import { PROBE_DEFAULTS, PROBE_TOKEN } from "./probe-params.ts";

const INTRO =
  "This answer is streamed by the gateway's built-in demo provider. Each token leaves the worker the moment it is generated, so the first words appear long before the answer is complete. Drop the connection mid-answer and the stream resumes from the last event it delivered, with nothing lost and nothing repeated.";

/** Fake but realistic-looking PII and secrets, for demonstrating the guardrail. */
const PII =
  "Sure. Write to jane.doe@example.com or call +1 415 555 0100. The test card is 4242 4242 4242 4242 and the staging key is sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789. Anything else?";

/** Models the demo provider serves and how each builds its answer from the last user message. */
export const DEMO_MODELS: Readonly<Record<string, (lastUser: string) => string>> = {
  echo: (lastUser) => (lastUser.trim() === "" ? INTRO : `You said: ${lastUser.trim()}`),
  story: () => INTRO,
  pii: () => PII,
  // Streaming, the probe follows its own cadence (probe.ts); this is its non-streaming answer.
  probe: () => PROBE_TOKEN.repeat(PROBE_DEFAULTS.events),
};

/** Splits text into word-sized tokens that keep their leading space, like a real tokenizer's output. */
export function tokenize(text: string): string[] {
  return text.match(/\s*\S+/g) ?? [];
}
