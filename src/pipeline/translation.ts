import { SseDecoder } from "../sse/decoder.ts";
import type { SseEvent } from "../sse/types.ts";
import type { WireFormat } from "../upstream/format.ts";
import type { StreamTranslator, TranslateStep } from "../upstream/translator.ts";
import type { StreamState } from "./stream-state.ts";

function dataEvent(data: string): SseEvent {
  return {
    raw: `data: ${data}\n\n`,
    event: undefined,
    data,
    hasData: true,
    id: undefined,
    strayLines: [],
    newline: "\n",
    terminated: true,
  };
}

/**
 * Turns a provider's events into the client's format (OpenAI chunks) one event at a time. `[DONE]` is
 * written only when the translator says the upstream really finished; otherwise its error step becomes
 * the client format's in-band error.
 */
export class Translation {
  readonly #translator: StreamTranslator;
  readonly #clientFormat: WireFormat;

  constructor(translator: StreamTranslator, clientFormat: WireFormat) {
    this.#translator = translator;
    this.#clientFormat = clientFormat;
  }

  /** The client-format events for one upstream event (none for a ping, several for a rich event). */
  push(ev: SseEvent): SseEvent[] {
    return this.#events(this.#translator.push(ev));
  }

  /** The final events once the upstream ended; records exact usage for analytics. */
  end(state: StreamState): SseEvent[] {
    const events = this.#events(this.#translator.end(!state.readFailed));
    const usage = this.#translator.usage;
    if (usage !== undefined) {
      state.inputTokens ??= usage.prompt_tokens;
      state.outputTokens ??= usage.completion_tokens;
    }
    return events;
  }

  #events(steps: readonly TranslateStep[]): SseEvent[] {
    const out: SseEvent[] = [];
    for (const step of steps) {
      if (step.kind === "event") out.push(step.ev);
      else if (step.kind === "chunk") out.push(dataEvent(JSON.stringify(step.chunk)));
      else if (step.kind === "done") out.push(dataEvent("[DONE]"));
      else {
        const decoder = new SseDecoder();
        out.push(...decoder.push(this.#clientFormat.errorFrames(step.error)), ...decoder.end());
      }
    }
    return out;
  }
}
