import fc from "fast-check";

/**
 * Seed of every fast-check property in the guardrail tests: fixed, so CI gives the same result run to run; set
 * `FC_SEED` to explore other inputs (`for s in $(seq 1 20); do FC_SEED=$s npx vitest run ...; done`). A failure
 * prints its seed and path, which `fc.assert(..., { seed, path, endOnFailure: true })` replays.
 */
export const FC_SEED = parseSeed(process.env.FC_SEED);

function parseSeed(value: string | undefined): number {
  if (value === undefined || value.trim() === "") return 20240607;
  const seed = Number(value);
  if (!Number.isSafeInteger(seed))
    throw new Error(`FC_SEED must be an integer, got ${JSON.stringify(value)}`);
  // fast-check seeds are 32-bit; `| 0` keeps any integer usable as one.
  return seed | 0;
}

// Per test file: vitest isolates modules per file, so this sets the default for the file that imports it.
fc.configureGlobal({ ...fc.readConfigureGlobal(), seed: FC_SEED });
