import fc from "fast-check";

// Property tests explore with a fixed seed so CI is deterministic; FC_SEED=<n> explores other inputs
// locally (fast-check prints the seed and path of any failure, which replays it exactly).
const seed = Number(process.env.FC_SEED ?? "20240607");
if (!Number.isSafeInteger(seed)) throw new Error(`FC_SEED must be an integer, got "${process.env.FC_SEED}"`);
fc.configureGlobal({ seed });
