/**
 * The text of one channel as far as classifiers still need it: what no window has been sent for yet,
 * plus the context the next window carries. Offsets are absolute in the channel's text (UTF-16).
 */
export class ChannelText {
  /** Absolute length of the channel's text so far. */
  length = 0;
  /** No more text will come on this channel (a final part, or the stream ended). */
  finished = false;
  #buffer = "";
  #start = 0;

  append(text: string): void {
    this.#buffer += text;
    this.length += text.length;
  }

  /** The text of `[from, to)`, `from` raised to what is still kept (and off a surrogate pair's second half). */
  slice(from: number, to: number): string {
    let at = Math.max(from, this.#start);
    const code = this.#buffer.charCodeAt(at - this.#start);
    if (at > this.#start && code >= 0xdc00 && code <= 0xdfff) at++;
    return this.#buffer.slice(at - this.#start, to - this.#start);
  }

  /** Forgets the text before `offset`: no window will need it (this keeps memory to a window and its context). */
  forget(offset: number): void {
    if (offset <= this.#start) return;
    const to = Math.min(offset, this.length);
    this.#buffer = this.#buffer.slice(to - this.#start);
    this.#start = to;
  }
}
