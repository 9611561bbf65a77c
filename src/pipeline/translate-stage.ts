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
 * Turns a provider's events into the client's format (OpenAI chunks) one event at a time, with no
 * buffering beyond what the translator needs. `[DONE]` is written only when the translator says the
 * upstream really finished; otherwise its error step becomes the client format's in-band error.
 */
export class TranslateStage extends TransformStream<SseEvent, SseEvent> {
  constructor(translator: StreamTranslator, clientFormat: WireFormat, state: StreamState) {
    const emit = (steps: TranslateStep[], controller: TransformStreamDefaultController<SseEvent>) => {
      for (const step of steps) {
        if (step.kind === "event") controller.enqueue(step.ev);
        else if (step.kind === "chunk") controller.enqueue(dataEvent(JSON.stringify(step.chunk)));
        else if (step.kind === "done") controller.enqueue(dataEvent("[DONE]"));
        else {
          const decoder = new SseDecoder();
          for (const ev of [...decoder.push(clientFormat.errorFrames(step.error)), ...decoder.end()])
            controller.enqueue(ev);
        }
      }
    };
    super({
      transform(ev, controller) {
        emit(translator.push(ev), controller);
      },
      flush(controller) {
        emit(translator.end(!state.readFailed), controller);
        const usage = translator.usage;
        if (usage !== undefined) {
          state.inputTokens ??= usage.prompt_tokens;
          state.outputTokens ??= usage.completion_tokens;
        }
      },
    });
  }
}
