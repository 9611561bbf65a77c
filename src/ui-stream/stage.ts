import { SseByteDecoder } from "../sse/byte-decoder.ts";
import type { SseEvent } from "../sse/types.ts";
import type { UiChunk } from "./chunks.ts";
import { UiStreamTranslator } from "./translator.ts";

/** One protocol event: JSON never contains a line break, so each chunk is one `data:` line. */
function encodeChunk(chunk: UiChunk): string {
  return `data: ${JSON.stringify(chunk)}\n\n`;
}

/** A comment block (a keep-alive, the timing trailer): the parser ignores it, proxies see traffic. */
function isComment(ev: SseEvent): boolean {
  return !ev.hasData && ev.raw.startsWith(":");
}

/**
 * The output stage of `/v1/ui/chat`: the gateway's OpenAI-chunk SSE bytes in, AI SDK UI message
 * stream bytes out, one read at a time. Comments pass through as they were; `id:` and `retry:` do not
 * (useChat resumes by chat id, from the start, never from an event number). A read error of the
 * source errors this stream too, so the client sees a broken connection (and may reconnect), never
 * a clean end.
 */
export class UiMessageStage extends TransformStream<Uint8Array, Uint8Array> {
  constructor() {
    const decoder = new SseByteDecoder();
    const translator = new UiStreamTranslator();
    const encoder = new TextEncoder();
    const encode = (events: readonly SseEvent[]): string => {
      let out = "";
      for (const ev of events) {
        if (isComment(ev)) {
          out += ev.raw;
          continue;
        }
        const step = translator.push(ev);
        for (const chunk of step.chunks) out += encodeChunk(chunk);
        if (step.done) out += "data: [DONE]\n\n";
      }
      return out;
    };
    super({
      transform(bytes, controller) {
        const out = encode(decoder.push(bytes));
        if (out !== "") controller.enqueue(encoder.encode(out));
      },
      flush(controller) {
        let out = encode(decoder.end());
        for (const chunk of translator.end()) out += encodeChunk(chunk);
        if (out !== "") controller.enqueue(encoder.encode(out));
      },
    });
  }
}
