import type { SseEvent } from "./types.ts";

type Newline = SseEvent["newline"];

const LF = 0x0a;
const COLON = 0x3a;
const SPACE = 0x20;

// Shared by every event without stray lines: most events have none, so this saves an array each.
const NO_STRAY_LINES: readonly string[] = Object.freeze([]);

/** Limits of one decoder. */
export interface SseDecoderOptions {
  /**
   * The longest `raw` one block may have, in UTF-16 code units (the unit of the text it is fed);
   * unlimited when absent. Every code unit is at least one UTF-8 byte, so a byte limit passed here
   * refuses no block within it in bytes, while what is held stays under about that many characters.
   */
  readonly maxEventLength?: number;
}

/** Why a decoder stopped: one block grew longer than `limit` (`length` is how long it was seen to be). */
export interface SseDecodeError {
  readonly reason: "event_too_large";
  readonly length: number;
  readonly limit: number;
}

/**
 * Incremental SSE parser over decoded text (WHATWG "event stream interpretation"): splits the
 * stream into blocks and parses their fields, keeping each block's exact source text in `raw`.
 *
 * A block longer than `maxEventLength` stops the decoder for good (`error` says why): the blocks
 * before it are returned, nothing from it or after it is, and nothing more is buffered. An upstream
 * that never ends an event therefore costs bounded memory. Whether a block is refused does not
 * depend on how the text was cut into pushes: the partial block is measured after every push and
 * the whole one when it ends, and it is never shorter than any part of it.
 */
export class SseDecoder {
  /** Raw text of the unfinished block that earlier pushes delivered. */
  private rawCarry: string[] = [];
  /** Total length of `rawCarry`, checked against the limit after every push. */
  private rawCarryLength = 0;
  private readonly maxEventLength: number;
  /** Set once a block exceeded the limit; the decoder then returns nothing more. */
  private failure: SseDecodeError | undefined;
  /** Content (no terminator) of the unfinished line that earlier pushes delivered; never holds "". */
  private lineCarry: string[] = [];
  /** The last push ended in a CR: the line is over, but an LF in the next push still belongs to it. */
  private pendingCr = false;
  /** True once the block has a non-blank line; blank lines before that are not a block end. */
  private hasLines = false;
  private newline: Newline | undefined;
  private event: string | undefined;
  private id: string | undefined;
  private dataLines: string[] = [];
  private strayLines: string[] = [];
  /** Line style of the previous block, for a final block whose only line never got a terminator. */
  private lastNewline: Newline = "\n";

  constructor(options: SseDecoderOptions = {}) {
    this.maxEventLength = options.maxEventLength ?? Number.POSITIVE_INFINITY;
  }

  /** Why decoding stopped (a block over `maxEventLength`), or undefined while it goes on. */
  get error(): SseDecodeError | undefined {
    return this.failure;
  }

  /** Feeds the next piece of text; returns every block completed by it, in order. */
  push(text: string): SseEvent[] {
    const out: SseEvent[] = [];
    const len = text.length;
    if (len === 0 || this.failure !== undefined) return out;
    // Start of the current line and of the current block's raw text, both within `text`.
    let pos = 0;
    let blockStart = 0;

    if (this.pendingCr) {
      this.pendingCr = false;
      const crlf = text.charCodeAt(0) === LF;
      pos = crlf ? 1 : 0;
      if (this.completeLine(this.takeLine(""), crlf ? "\r\n" : "\r")) {
        if (!this.emit(out, this.dispatch(text.slice(0, pos), true))) return out;
        blockStart = pos;
      }
    }

    // Next CR and LF positions are cached and only searched again once passed, so a chunk with
    // many lines of one style is scanned once, not once per line.
    let nextCr = text.indexOf("\r", pos);
    let nextLf = text.indexOf("\n", pos);
    while (pos < len) {
      if (nextCr !== -1 && nextCr < pos) nextCr = text.indexOf("\r", pos);
      if (nextLf !== -1 && nextLf < pos) nextLf = text.indexOf("\n", pos);
      let end: number;
      let newline: Newline;
      if (nextLf !== -1 && (nextCr === -1 || nextLf < nextCr)) {
        end = nextLf;
        newline = "\n";
      } else if (nextCr !== -1) {
        end = nextCr;
        if (this.endsCrBlock(end === pos)) {
          newline = "\r";
        } else if (end + 1 < len) {
          newline = text.charCodeAt(end + 1) === LF ? "\r\n" : "\r";
        } else {
          // A CR at the very end: an LF in the next push would be part of this terminator, so
          // the line is held (the block cannot end, or its raw would miss that LF).
          if (end > pos) this.lineCarry.push(text.slice(pos, end));
          this.pendingCr = true;
          pos = len;
          break;
        }
      } else {
        break;
      }
      const content = this.takeLine(text.slice(pos, end));
      pos = end + newline.length;
      if (this.completeLine(content, newline)) {
        if (!this.emit(out, this.dispatch(text.slice(blockStart, pos), true))) return out;
        blockStart = pos;
      }
    }

    if (pos < len) this.lineCarry.push(text.slice(pos));
    if (blockStart < len) {
      this.rawCarry.push(text.slice(blockStart));
      this.rawCarryLength += len - blockStart;
      if (this.rawCarryLength > this.maxEventLength) this.fail(this.rawCarryLength);
    }
    return out;
  }

  /** Signals end of input; returns the last block if one is open (`terminated: false` if it had lines). */
  end(): SseEvent[] {
    const out: SseEvent[] = [];
    if (this.failure !== undefined) return out;
    if (this.pendingCr) {
      this.pendingCr = false;
      if (this.completeLine(this.takeLine(""), "\r") && !this.emit(out, this.dispatch("", true))) return out;
    }
    // A last line without any terminator still counts as a line of the final block.
    if (this.lineCarry.length > 0) this.parseLine(this.takeLine(""));
    // Only blank lines pending (no fields): nothing was cut off, so the block counts as terminated.
    if (this.rawCarry.length > 0) this.emit(out, this.dispatch("", !this.hasLines));
    return out;
  }

  /** Adds a completed block to `out` unless it is over the limit, which stops the decoder (false). */
  private emit(out: SseEvent[], event: SseEvent): boolean {
    if (event.raw.length <= this.maxEventLength) {
      out.push(event);
      return true;
    }
    this.fail(event.raw.length);
    return false;
  }

  /** Stops for good and lets go of everything buffered: the rest of the input is never looked at. */
  private fail(length: number): void {
    this.failure = { reason: "event_too_large", length, limit: this.maxEventLength };
    this.rawCarry = [];
    this.rawCarryLength = 0;
    this.lineCarry = [];
    this.dataLines = [];
    this.strayLines = [];
    this.pendingCr = false;
  }

  /**
   * In a block whose lines end in bare CR, its blank line is a bare CR too, so the block is
   * dispatched at once instead of waiting to see whether an LF follows. An LF that does follow is
   * then an extra blank line, which SSE ignores: the parse is the same, and it is decided the same
   * way whatever the chunking.
   */
  private endsCrBlock(blank: boolean): boolean {
    return blank && this.lineCarry.length === 0 && this.hasLines && this.newline === "\r";
  }

  /** Returns the whole content of the current line, joining carried pieces once per line. */
  private takeLine(tail: string): string {
    if (this.lineCarry.length === 0) return tail;
    this.lineCarry.push(tail);
    const line = this.lineCarry.join("");
    this.lineCarry = [];
    return line;
  }

  /** Records one terminated line; true when it is the blank line that ends the block. */
  private completeLine(content: string, newline: Newline): boolean {
    if (content.length === 0) {
      if (this.hasLines) return true;
      // Blank lines with no block open dispatch nothing in SSE; they stay in the raw text and
      // lead the next block, so the concatenated raw still reproduces the input.
      this.newline ??= newline;
      return false;
    }
    if (!this.hasLines) this.newline = newline;
    this.parseLine(content);
    return false;
  }

  /** Applies one non-blank line to the block's fields (spec: "process the field"). */
  private parseLine(line: string): void {
    this.hasLines = true;
    if (line.charCodeAt(0) === COLON) return;
    const colon = line.indexOf(":");
    let name = line;
    let value = "";
    if (colon !== -1) {
      name = line.slice(0, colon);
      value = line.slice(line.charCodeAt(colon + 1) === SPACE ? colon + 2 : colon + 1);
    }
    switch (name) {
      case "data":
        this.dataLines.push(value);
        break;
      case "event":
        this.event = value;
        break;
      case "id":
        // Spec: an id containing NULL is ignored, the previous id stays.
        if (!value.includes("\0")) this.id = value;
        break;
      case "retry":
        // Reconnection delay is the client's business; it stays in `raw` and is forwarded as is.
        break;
      default:
        // The spec ignores unknown fields; they are kept so a stage can see a bare error body.
        this.strayLines.push(line);
    }
  }

  /** Builds the event from the block state plus the last raw piece, and resets for the next block. */
  private dispatch(rawTail: string, terminated: boolean): SseEvent {
    let raw = rawTail;
    if (this.rawCarry.length > 0) {
      this.rawCarry.push(rawTail);
      raw = this.rawCarry.join("");
      this.rawCarry = [];
      this.rawCarryLength = 0;
    }
    const newline = this.newline ?? this.lastNewline;
    const event: SseEvent = {
      raw,
      event: this.event,
      data: this.dataLines.join("\n"),
      hasData: this.dataLines.length > 0,
      id: this.id,
      strayLines: this.strayLines.length > 0 ? this.strayLines : NO_STRAY_LINES,
      newline,
      terminated,
    };
    this.lastNewline = newline;
    this.hasLines = false;
    this.newline = undefined;
    this.event = undefined;
    this.id = undefined;
    this.dataLines = [];
    this.strayLines = [];
    return event;
  }
}
