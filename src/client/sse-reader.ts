/**
 * An incremental Server-Sent Events parser for the browser client, following the WHATWG HTML
 * "event stream interpretation" rules: bytes in, dispatched messages out.
 */

/** One dispatched SSE message. */
export interface SseMessage {
  /** The `event:` field, or "message" when the block had none (the spec's default type). */
  readonly event: string;
  /** The `data:` lines joined with LF (the spec removes the final LF). */
  readonly data: string;
  /**
   * The `id:` field of this block only, unlike the spec's sticky last-event-id: deduplication needs
   * to know which events carry their own sequence number.
   */
  readonly id: string | undefined;
}

/** Options of `SseReader`. */
export interface SseReaderOptions {
  /**
   * Sees the text of each comment line (after the colon and one optional space). The spec ignores
   * comments, and so does the parse: this only lets a caller read what a server says in them (the
   * gateway's closing timings).
   */
  readonly onComment?: (text: string) => void;
}

const LF = 0x0a;
const COLON = 0x3a;
const SPACE = 0x20;
// The spec only accepts a retry value made of ASCII digits; anything else is ignored.
const RETRY_VALUE = /^[0-9]+$/;

/** Parses an SSE byte stream pushed in arbitrary chunks (lines, CRLF pairs and UTF-8 characters may be split). */
export class SseReader {
  // Stream mode keeps a multi-byte UTF-8 character split across chunks until its last byte arrives;
  // the default ignoreBOM=false strips one leading BOM, as the spec requires.
  readonly #decoder = new TextDecoder("utf-8");
  // Pieces of the current unterminated line, joined once it ends (no quadratic concatenation).
  #partial: string[] = [];
  // The previous chunk ended in CR: a leading LF in the next one completes a CRLF, not a blank line.
  #skipLf = false;
  #data: string[] = [];
  #event = "";
  #id: string | undefined;
  #lastEventId = "";
  #retry: number | undefined;
  readonly #onComment: ((text: string) => void) | undefined;

  constructor(options: SseReaderOptions = {}) {
    this.#onComment = options.onComment;
  }

  /** The spec's last-event-id buffer: the most recent `id:` seen, kept across messages. */
  get lastEventId(): string {
    return this.#lastEventId;
  }

  /** The most recent valid `retry:` value in milliseconds, if any. */
  get retry(): number | undefined {
    return this.#retry;
  }

  /** Feeds the next bytes and returns the messages completed by them, in order. */
  push(chunk: Uint8Array): SseMessage[] {
    return this.#feed(this.#decoder.decode(chunk, { stream: true }));
  }

  /**
   * Ends the stream. Per the spec an event not closed by a blank line is discarded, never dispatched:
   * a connection cut mid-event must not yield half an event.
   */
  end(): SseMessage[] {
    const messages = this.#feed(this.#decoder.decode());
    this.#partial = [];
    this.#data = [];
    this.#event = "";
    this.#id = undefined;
    this.#skipLf = false;
    return messages;
  }

  #feed(text: string): SseMessage[] {
    const out: SseMessage[] = [];
    const length = text.length;
    let start = 0;
    // A chunk of only partial UTF-8 decodes to "": the pending CR still waits for its LF.
    if (this.#skipLf && length > 0) {
      if (text.charCodeAt(0) === LF) start = 1;
      this.#skipLf = false;
    }
    // indexOf runs natively; scanning char by char in JS would be per-byte work on the hot path.
    let nextLf = text.indexOf("\n", start);
    let nextCr = text.indexOf("\r", start);
    while (nextLf !== -1 || nextCr !== -1) {
      const end = nextCr === -1 ? nextLf : nextLf === -1 ? nextCr : Math.min(nextLf, nextCr);
      let after = end + 1;
      if (end === nextCr) {
        if (after < length) {
          if (text.charCodeAt(after) === LF) after++;
        } else {
          this.#skipLf = true;
        }
      }
      this.#line(this.#takeLine(text.slice(start, end)), out);
      start = after;
      if (nextLf !== -1 && nextLf < start) nextLf = text.indexOf("\n", start);
      if (nextCr !== -1 && nextCr < start) nextCr = text.indexOf("\r", start);
    }
    if (start < length) this.#partial.push(text.slice(start));
    return out;
  }

  #takeLine(tail: string): string {
    if (this.#partial.length === 0) return tail;
    this.#partial.push(tail);
    const line = this.#partial.join("");
    this.#partial = [];
    return line;
  }

  #line(line: string, out: SseMessage[]): void {
    if (line === "") {
      this.#dispatch(out);
      return;
    }
    if (line.charCodeAt(0) === COLON) {
      // A comment (keep-alive, timings): ignored by the spec, only shown to whoever asked.
      this.#onComment?.(line.slice(line.charCodeAt(1) === SPACE ? 2 : 1));
      return;
    }
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    // Exactly one space after the colon is part of the syntax, not of the value.
    const value =
      colon === -1 ? "" : line.slice(line.charCodeAt(colon + 1) === SPACE ? colon + 2 : colon + 1);
    switch (field) {
      case "data":
        this.#data.push(value);
        break;
      case "event":
        this.#event = value;
        break;
      case "id":
        // The spec ignores an id containing NUL, so it can never be echoed back as a header.
        if (!value.includes("\0")) {
          this.#id = value;
          this.#lastEventId = value;
        }
        break;
      case "retry":
        if (RETRY_VALUE.test(value)) this.#retry = Number(value);
        break;
      default:
        break; // unknown fields are ignored by the spec
    }
  }

  #dispatch(out: SseMessage[]): void {
    const id = this.#id;
    this.#id = undefined;
    // A block without data (e.g. a lone `retry:` line) updates state but dispatches nothing.
    if (this.#data.length > 0) {
      out.push({ event: this.#event === "" ? "message" : this.#event, data: this.#data.join("\n"), id });
    }
    this.#data = [];
    this.#event = "";
  }
}
