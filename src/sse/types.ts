/**
 * One SSE block as it travelled on the wire. `raw` is the exact text of the block, including the
 * blank line that terminated it, so an event nobody changes is forwarded byte for byte.
 */
export interface SseEvent {
  /** Exact source text of the block, line endings as received, including the terminating blank line. */
  readonly raw: string;
  /** Value of the last `event:` field, or undefined when absent (which SSE treats as "message"). */
  readonly event: string | undefined;
  /** `data:` field values joined by "\n" (SSE semantics); "" when the block had no data line. */
  readonly data: string;
  /** True when at least one `data:` line was present (distinguishes `data:` from no data at all). */
  readonly hasData: boolean;
  /** Value of the last `id:` field, if any. */
  readonly id: string | undefined;
  /** Lines that are not valid SSE fields or comments (e.g. a bare JSON error body written into the stream). */
  readonly strayLines: readonly string[];
  /** The line terminator this block used ("\n", "\r\n" or "\r"), so edits keep the upstream's style. */
  readonly newline: "\n" | "\r\n" | "\r";
  /** False only for a final block that ended at EOF without a blank line (the SSE spec would drop it). */
  readonly terminated: boolean;
}
