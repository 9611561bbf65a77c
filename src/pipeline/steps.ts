import type { StreamItem } from "./item.ts";

/**
 * An item stage as a synchronous step (the guardrail): what one item becomes, and what the end of
 * the stream adds. Steps run inside the stream's one source (upstream-events.ts) rather than as
 * runtime streams of their own, because each runtime stream hop costs more per event on workerd
 * than the work a step does (measured by `npm run bench`).
 */
export interface ItemStep {
  push(item: StreamItem): readonly StreamItem[];
  end(): readonly StreamItem[];
}

/** Runs one item through every step in order. */
export function runSteps(steps: readonly ItemStep[], item: StreamItem): readonly StreamItem[] {
  let items: readonly StreamItem[] = [item];
  for (const step of steps) items = items.flatMap((i) => step.push(i));
  return items;
}

/** Ends every step in order; what an earlier step releases at its end still passes the later ones. */
export function endSteps(steps: readonly ItemStep[]): readonly StreamItem[] {
  let items: readonly StreamItem[] = [];
  for (const step of steps) items = [...items.flatMap((i) => step.push(i)), ...step.end()];
  return items;
}
