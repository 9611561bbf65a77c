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

/**
 * A step whose items may leave later than the call that took them (a guardrail classifier waiting
 * for a verdict). It must be the last step: what it releases on its own goes straight to the client.
 * The source hands it `release` once, waits on `ready()` before reading more of the upstream (so what
 * it holds stays bounded), and on `settled()` before closing the stream. A stream whose steps are
 * all synchronous never touches any of this (no promise per event).
 */
export interface AsyncItemStep extends ItemStep {
  /** Where items released later go, in order (after everything `push` and `end` returned). */
  attach(release: (items: readonly StreamItem[]) => void): void;
  /** Undefined when the step can take more now; else resolves when it can. */
  ready(): Promise<void> | undefined;
  /** Resolves when everything taken was released or dropped (after `end`). */
  settled(): Promise<void>;
  /** The stream is over (cancelled, closed): stop pending work. */
  stop(): void;
}

function isAsync(step: ItemStep): step is AsyncItemStep {
  return "settled" in step && "attach" in step;
}

/** The last step when it is asynchronous, else undefined. */
export function asyncStep(steps: readonly ItemStep[]): AsyncItemStep | undefined {
  const last = steps[steps.length - 1];
  return last !== undefined && isAsync(last) ? last : undefined;
}

/** Runs one item through every step in order. */
export function runSteps(steps: readonly ItemStep[], item: StreamItem): readonly StreamItem[] {
  let items: readonly StreamItem[] = [item];
  for (const step of steps) {
    // One item in is the usual case (a step releases what it took): no flatMap and its closure per event.
    const only = items.length === 1 ? items[0] : undefined;
    if (only !== undefined) {
      items = step.push(only);
      continue;
    }
    const next: StreamItem[] = [];
    for (const i of items) next.push(...step.push(i));
    items = next;
  }
  return items;
}

/** Ends every step in order; what an earlier step releases at its end still passes the later ones. */
export function endSteps(steps: readonly ItemStep[]): readonly StreamItem[] {
  let items: readonly StreamItem[] = [];
  for (const step of steps) items = [...items.flatMap((i) => step.push(i)), ...step.end()];
  return items;
}
