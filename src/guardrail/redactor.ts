/** A decided redaction on one channel, in absolute offsets. */
interface Redaction {
  readonly start: number;
  readonly end: number;
  readonly mask: string;
  /** Continues the match that ends exactly at `start` (a long token's next chunk): merges, adds no mask. */
  readonly joins: boolean;
  /** Rule order, the last tie-break for which mask a region shows. */
  readonly order: number;
}

/**
 * Sort order of pending redactions: by start; at one start, a continuation first (it extends the region ending
 * there, after which the others overlap it and join too), then longer first, then rule order.
 */
function before(a: Redaction, b: Redaction): boolean {
  if (a.start !== b.start) return a.start < b.start;
  if (a.joins !== b.joins) return a.joins;
  if (a.end !== b.end) return a.end > b.end;
  return a.order < b.order;
}

/**
 * Applies one channel's redactions to its text piece by piece, in order. Overlapping matches (and the chunks of
 * one running match) form one region, shown as the mask of the region's first match, at the region's start;
 * the rest of the region is dropped. The output for a char depends only on matches starting at or before it,
 * so a piece can be rewritten as soon as every start up to its end is decided, whichever event it is in.
 */
export class Redactor {
  private pending: Redaction[] = [];
  /** End of the region whose mask was already written; text before it is dropped. */
  private regionEnd = 0;

  /** Adds a decided redaction (its start is never before text already rewritten). */
  add(start: number, end: number, mask: string, joins: boolean, order: number): void {
    if (start < this.regionEnd || (joins && start === this.regionEnd)) {
      this.regionEnd = Math.max(this.regionEnd, end);
      return;
    }
    const r: Redaction = { start, end, mask, joins, order };
    let i = this.pending.length;
    while (i > 0) {
      const prev = this.pending[i - 1];
      if (prev === undefined || !before(r, prev)) break;
      i--;
    }
    this.pending.splice(i, 0, r);
  }

  /** Rewrites the piece of text at absolute offset `at`; returns `text` itself when nothing in it changes. */
  rewrite(text: string, at: number): string {
    const end = at + text.length;
    if (at >= this.regionEnd && (this.pending[0]?.start ?? end) >= end) return text;
    let out = "";
    let p = at;
    let i = 0;
    while (p < end) {
      // Absorb what the written region reaches: it may have grown (a late overlapping match) since these queued.
      for (let r = this.pending[i]; r !== undefined; r = this.pending[i]) {
        if (r.start > this.regionEnd || (r.start === this.regionEnd && !r.joins)) break;
        this.regionEnd = Math.max(this.regionEnd, r.end);
        i++;
      }
      if (p < this.regionEnd) {
        p = Math.min(this.regionEnd, end);
        continue;
      }
      const next = this.pending[i];
      if (next === undefined || next.start >= end) {
        out += text.slice(p - at);
        break;
      }
      out += text.slice(p - at, next.start - at) + next.mask;
      this.regionEnd = next.end;
      i++;
      p = next.start;
    }
    if (i > 0) this.pending.splice(0, i);
    return out;
  }
}
