/** Seeded randomness for the bench: the same seed gives the same text, cuts and turn orders. */

/** A small seeded PRNG (mulberry32): numbers in [0, 1), the same sequence for the same seed. */
export function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The order targets take their turns in round `round`: a seeded shuffle (Fisher–Yates), a new
 * one each round. A fixed order would give every target the same predecessor every round, and a
 * target's request pays for what its predecessor's process still does after its answer: behind the
 * one that makes a new Durable Object per stream, 0.3–0.5 ms of TTFT (docs/storage.md, "The plain
 * gateway's TTFT"). Shuffled, that cost lands on every target alike.
 */
export function turnOrder<T>(items: readonly T[], round: number): T[] {
  const next = random(round + 1);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i -= 1) {
    const j = Math.floor(next() * (i + 1));
    const a = out[i] as T;
    out[i] = out[j] as T;
    out[j] = a;
  }
  return out;
}
