/**
 * A fixed-size log-linear histogram of inter-token gaps (milliseconds): the p50 of a stream of any
 * length in constant memory, deterministic (no sampling), and exact where it matters most.
 *
 * Layout: one bucket per whole millisecond below `LINEAR_LIMIT` (exact for the integer-millisecond
 * clock of deployed Workers), then `SUB_BUCKETS` buckets per power of two, so a value above the
 * linear range is reported within 1/64 (about 1.6 %) of its true value.
 */

/** Buckets per power of two; also the width of the exact linear range's top octave. */
const SUB_BUCKETS = 32;
/** log2(SUB_BUCKETS): how far an octave's bucket index is shifted. */
const SUB_BITS = 5;
/** Values below this (ms) get one bucket each: typical token gaps (5-60 ms) stay exact. */
const LINEAR_LIMIT = 2 * SUB_BUCKETS;
/** Octaves above the linear range: up to 2^24 ms (about 4.6 hours), far beyond any stream timeout. */
const OCTAVES = 24 - (SUB_BITS + 1);
/** 640 buckets of 4 bytes: 2.5 KiB per stream, allocated only once a stream has a second content event. */
const BUCKET_COUNT = LINEAR_LIMIT + OCTAVES * SUB_BUCKETS;
/** Largest value with its own bucket; larger gaps are counted in the last bucket (the max stays exact). */
const MAX_TRACKED = 2 ** 24 - 1;

/** Bucket index of a gap; negative or non-finite values count as 0, huge ones as the last bucket. */
function bucketOf(ms: number): number {
  const v = Number.isFinite(ms) && ms > 0 ? Math.min(Math.floor(ms), MAX_TRACKED) : 0;
  if (v < LINEAR_LIMIT) return v;
  const octave = 31 - Math.clz32(v); // floor(log2(v)), >= SUB_BITS + 1 here
  const sub = (v >>> (octave - SUB_BITS)) - SUB_BUCKETS;
  return LINEAR_LIMIT + (octave - (SUB_BITS + 1)) * SUB_BUCKETS + sub;
}

/** Representative value of a bucket: its lower bound in the exact range, its midpoint above. */
function bucketValue(bucket: number): number {
  if (bucket < LINEAR_LIMIT) return bucket;
  const rel = bucket - LINEAR_LIMIT;
  const octave = Math.floor(rel / SUB_BUCKETS) + SUB_BITS + 1;
  const width = 2 ** (octave - SUB_BITS);
  const lower = (SUB_BUCKETS + (rel % SUB_BUCKETS)) * width;
  return lower + width / 2;
}

/** Counts gaps into fixed buckets; `quantile` answers by nearest rank. */
export class GapHistogram {
  private buckets: Uint32Array | undefined;
  private total = 0;

  /** Number of gaps recorded. */
  get count(): number {
    return this.total;
  }

  /** Records one gap in milliseconds. */
  record(ms: number): void {
    // Lazily allocated: most error streams never see a second content event.
    const buckets = this.buckets ?? new Uint32Array(BUCKET_COUNT);
    this.buckets = buckets;
    const i = bucketOf(ms);
    buckets[i] = (buckets[i] ?? 0) + 1;
    this.total += 1;
  }

  /**
   * The q-quantile (0 < q <= 1) by nearest rank (the smallest recorded value with at least q of the
   * values at or below it), so the p50 of [10, 20, 30, 40] is 20; undefined when nothing was recorded.
   */
  quantile(q: number): number | undefined {
    const buckets = this.buckets;
    if (buckets === undefined || this.total === 0) return undefined;
    const rank = Math.max(1, Math.ceil(q * this.total));
    let seen = 0;
    for (let i = 0; i < buckets.length; i += 1) {
      seen += buckets[i] ?? 0;
      if (seen >= rank) return bucketValue(i);
    }
    return bucketValue(buckets.length - 1);
  }
}
