import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { SseByteDecoder } from "../../src/sse/byte-decoder.ts";
import type { SseEvent } from "../../src/sse/types.ts";

/** Root of the recorded upstream streams; CI runs from the project root with `shared/` beside it. */
export const FIXTURE_ROOT = path.resolve(process.cwd(), "../shared/fixtures/upstream");

/** Every `.sse` fixture as a sorted relative path with "/" separators, e.g. "openai/chat-finish-length.sse". */
export function fixtureNames(): string[] {
  const names: string[] = [];
  const walk = (dir: string, prefix: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const rel = prefix === "" ? entry.name : `${prefix}/${entry.name}`;
      if (entry.isDirectory()) walk(path.join(dir, entry.name), rel);
      else if (entry.name.endsWith(".sse")) names.push(rel);
    }
  };
  walk(FIXTURE_ROOT, "");
  return names.sort();
}

/** The exact bytes of one fixture, as a plain Uint8Array (not a pooled Buffer view). */
export function readFixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(path.join(FIXTURE_ROOT, name)));
}

/** Cuts `bytes` at the given positions (any order; duplicates and ends ignored): no piece is empty. */
export function splitAt(bytes: Uint8Array, positions: readonly number[]): Uint8Array[] {
  const cuts = [...new Set(positions)].filter((p) => p > 0 && p < bytes.length).sort((a, b) => a - b);
  const pieces: Uint8Array[] = [];
  let start = 0;
  for (const cut of cuts) {
    pieces.push(bytes.subarray(start, cut));
    start = cut;
  }
  pieces.push(bytes.subarray(start));
  return pieces;
}

/** `bytes` cut at `count` positions drawn from a PRNG seeded with `seed`: same seed, same pieces. */
export function randomSplits(bytes: Uint8Array, seed: number, count: number): Uint8Array[] {
  const next = mulberry32(seed);
  const positions: number[] = [];
  for (let i = 0; i < count; i++) positions.push(1 + Math.floor(next() * Math.max(0, bytes.length - 1)));
  return splitAt(bytes, positions);
}

/** Every 2-piece split of `bytes`: [bytes[0..i), bytes[i..)] for i = 1 .. length - 1. */
export function* everyBoundary(bytes: Uint8Array): Generator<[Uint8Array, Uint8Array]> {
  for (let i = 1; i < bytes.length; i++) yield [bytes.subarray(0, i), bytes.subarray(i)];
}

/** `bytes` as one-byte pieces: every position is a boundary at once. */
export function oneByteChunks(bytes: Uint8Array): Uint8Array[] {
  const pieces: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i++) pieces.push(bytes.subarray(i, i + 1));
  return pieces;
}

/**
 * Runs the chunks, one read each, through the pipeline's own bytes-to-events decoder (SseByteDecoder,
 * what the source runs on every upstream body) and collects every event. A promise, as it was when a
 * stream did the decoding: callers stay as they are.
 */
export function decodeAll(chunks: readonly Uint8Array[]): Promise<SseEvent[]> {
  const decoder = new SseByteDecoder();
  const events: SseEvent[] = [];
  for (const chunk of chunks) for (const ev of decoder.push(chunk)) events.push(ev);
  for (const ev of decoder.end()) events.push(ev);
  return Promise.resolve(events);
}

/** The text `events` put on the wire, in order: what a client of the gateway reads. */
export function wire(events: readonly SseEvent[]): string {
  return events.map((ev) => ev.raw).join("");
}

/** UTF-8 text of the bytes with a leading BOM dropped, i.e. what the decoder's `raw` strings must add up to. */
export function decodedText(bytes: Uint8Array): string {
  return new TextDecoder("utf-8").decode(bytes);
}

// mulberry32: a tiny, well-mixed 32-bit PRNG; enough for reproducible split positions.
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
