/**
 * Output tokens estimated from streamed text, for streams whose provider reports no usage (an
 * OpenAI-compatible native stream without `stream_options.include_usage`) or ends before it does.
 * The rule and its measured error on the recorded provider streams are in docs/analytics.md.
 */

/** A piece of text as a format adapter reads it out of one event (structurally a `TextPart`). */
export interface EstimatedText {
  readonly text: string;
  /** A whole-channel copy of text already streamed (e.g. Responses `output_text.done`): not new tokens. */
  readonly final?: boolean;
}

/**
 * Deltas up to this many characters count as one token. Token-by-token streamers (OpenAI, Groq, the
 * demo) send exactly one token per event, and their tokens run 1-11 characters (" Francisco",
 * "temperature"); `round(chars / 4)` made every 6-10 character token two (+50 % on a plain-text answer).
 * 10 minimised the error on the recorded streams: at 11 and above, the short multi-token chunks of
 * Workers AI (3-13 characters) are undercounted by a fifth or more.
 */
export const SHORT_DELTA_CHARS = 10;

/**
 * Characters per token for longer deltas: the multi-token chunks of Anthropic, Gemini and Workers AI
 * measured 4.2-4.4 characters per token, so 4 errs high by at most about 11 %.
 */
export const CHARS_PER_TOKEN = 4;

/**
 * Estimated output tokens in one event's text, summed over its parts (each channel's delta carries
 * its own tokens): 0 for an empty delta, 1 for one of at most `SHORT_DELTA_CHARS` characters (UTF-16
 * code units), else `round(chars / CHARS_PER_TOKEN)`. Whole-text copies (`final`) add nothing, so a
 * Responses stream's text is not counted twice.
 */
export function estimateTokens(parts: readonly EstimatedText[]): number {
  let tokens = 0;
  for (const part of parts) {
    const chars = part.final === true ? 0 : part.text.length;
    if (chars > SHORT_DELTA_CHARS) tokens += Math.round(chars / CHARS_PER_TOKEN);
    else if (chars > 0) tokens += 1;
  }
  return tokens;
}
