import { type BodySource, replaySource } from "../pipeline/body-source.ts";
import { SseByteDecoder } from "../sse/byte-decoder.ts";
import type { WireFormat } from "../upstream/format.ts";

/**
 * How long a stream is held, at most, waiting for its first token so that a failure before it can
 * still be retried: past this the attempt is committed (the client gets its headers, its stream id
 * and the events so far), because a reasoning model may think for minutes and the headers must not
 * wait for it. A failure after this ends the answer with the in-band error, as it always has.
 */
export const FIRST_TOKEN_HOLD_MS = 1000;

/**
 * What reading up to the first token found. Either way `source` replays the stream from its first
 * byte (a failed attempt's source is what the client gets when no other attempt is left: the
 * upstream's own error, in its own format), and `release` frees it when it is not used.
 */
export type FirstContent =
  | { readonly ok: true; readonly source: BodySource }
  | { readonly ok: false; readonly why: string; readonly source: BodySource };

/** What ends the wait: the next read, or the hold running out. */
type Next = { readonly read: ReadableStreamReadResult<Uint8Array> } | { readonly failed: true } | "hold";

/**
 * Reads an attempt's stream until its first content token (or a normal end without one), so that
 * an attempt failing before it (an error event, a reset, an early end) can still be retried or
 * routed around without the client seeing two answers' beginnings. Only the events before the
 * first token (a role chunk, `message_start`, pings) wait: they carry no text, and TTFT is measured
 * at the first token. After `holdMs` without a token the attempt is taken as it is. The chunks read
 * are replayed to the pipeline, which reads them again; an event longer than `maxEventBytes`
 * (about: characters are counted) is left for the pipeline to refuse.
 */
export async function untilFirstContent(
  body: ReadableStream<Uint8Array>,
  format: WireFormat,
  maxEventBytes: number,
  holdMs: number = FIRST_TOKEN_HOLD_MS,
): Promise<FirstContent> {
  const reader = body.getReader();
  const held: Uint8Array[] = [];
  const sse = new SseByteDecoder({ maxEventLength: maxEventBytes });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hold = new Promise<"hold">((resolve) => {
    if (Number.isFinite(holdMs)) timer = setTimeout(() => resolve("hold"), holdMs);
  });
  const done = (
    result: { ok: true } | { ok: false; why: string },
    pending?: Promise<ReadableStreamReadResult<Uint8Array>>,
  ) => {
    clearTimeout(timer);
    const source = replaySource(held, reader, pending);
    return result.ok ? { ok: true as const, source } : { ok: false as const, why: result.why, source };
  };
  for (;;) {
    const pending = reader.read();
    const next: Next = await Promise.race([
      pending.then(
        (read) => ({ read }),
        () => ({ failed: true as const }),
      ),
      hold,
    ]);
    // Taken as it is: the read under way is the pipeline's first.
    if (next === "hold") return done({ ok: true }, pending);
    if ("failed" in next) return done({ ok: false, why: "the connection failed" }, pending);
    if (next.read.done) {
      // The last event may lack its blank line (a Gemini blocked prompt): judge it as the pipeline will.
      const last = sse.end().filter((ev) => ev.terminated || format.isWhole(ev));
      const answered = last.some((ev) => {
        const info = format.inspect(ev);
        return info.signal === "complete" || info.parts.length > 0;
      });
      return done(answered ? { ok: true } : { ok: false, why: "the stream ended without an answer" });
    }
    held.push(next.read.value);
    for (const ev of sse.push(next.read.value)) {
      const info = format.inspect(ev);
      if (info.signal === "error" || info.signal === "stray-error")
        return done({ ok: false, why: info.errorMessage ?? "an error event" });
      // The first token, or a normal end with none: this attempt answered.
      if (info.parts.length > 0 || info.signal === "complete") return done({ ok: true });
    }
    if (sse.error !== undefined) return done({ ok: true });
  }
}
