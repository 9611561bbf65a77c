import { sseEvent } from "../sse/encode.ts";
import type { SseEvent } from "../sse/types.ts";
import type { EventInfo, InBandError, WireFormat } from "../upstream/format.ts";
import { inspectChunk } from "../upstream/openai-chat/chunk-info.ts";
import type { StreamTranslator, TranslateStep } from "../upstream/translator.ts";
import type { StreamState } from "./stream-state.ts";

/**
 * One client-format event a translation wrote, with what it already knows of it: the `info` of a
 * chunk it built (read from the chunk object, so the inspector need not parse the JSON it was just
 * serialized to); undefined for an event the inspector must read itself (a forwarded upstream chunk,
 * `[DONE]`, an error).
 */
export interface TranslatedEvent {
  readonly ev: SseEvent;
  readonly info: EventInfo | undefined;
  /** Set on the events of a failure (the upstream's error, a cut): what a continuation may repair. */
  readonly failure?: InBandError;
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
  push(ev: SseEvent): TranslatedEvent[] {
    return this.#events(this.#translator.push(ev));
  }

  /** The final events once the upstream ended; records exact usage for analytics. */
  end(state: StreamState): TranslatedEvent[] {
    const events = this.#events(this.#translator.end(!state.readFailed));
    const usage = this.#translator.usage;
    // A continued answer's usage chunk already carries the earlier attempts' tokens (the seam adds them).
    if (usage !== undefined) state.outputTokens ??= usage.completion_tokens + state.priorOutputTokens;
    state.malformedEvents += this.#translator.malformed;
    return events;
  }

  #events(steps: readonly TranslateStep[]): TranslatedEvent[] {
    const out: TranslatedEvent[] = [];
    for (const step of steps) {
      if (step.kind === "chunk") {
        // JSON.stringify never writes a line break, so the chunk is one `data:` line.
        const ev = sseEvent({ data: JSON.stringify(step.chunk) });
        out.push({ ev, info: inspectChunk(step.chunk) });
      } else if (step.kind === "event") out.push({ ev: step.ev, info: step.info });
      else if (step.kind === "done") out.push({ ev: sseEvent({ data: "[DONE]" }), info: undefined });
      else {
        for (const ev of this.#clientFormat.errorEvents(step.error))
          out.push({ ev, info: undefined, failure: step.error });
      }
    }
    return out;
  }
}
