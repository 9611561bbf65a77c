import { describe, expect, it } from "vitest";
import type { StreamItem } from "../../../src/pipeline/item.ts";
import { endSteps, type ItemStep, runSteps } from "../../../src/pipeline/steps.ts";

function item(raw: string): StreamItem {
  return {
    ev: {
      raw,
      event: undefined,
      data: raw,
      hasData: true,
      id: undefined,
      strayLines: [],
      newline: "\n",
      terminated: true,
    },
    info: { parts: [] },
  };
}
const raws = (items: readonly StreamItem[]) => items.map((i) => i.ev.raw);

/** Holds every item until the end (like an enforce window that never decides early). */
function holdAll(tag: string): ItemStep {
  const held: StreamItem[] = [];
  return {
    push: (i) => {
      held.push(i);
      return [];
    },
    end: () => [...held.splice(0).map((i) => item(`${i.ev.raw}>${tag}`)), item(`end:${tag}`)],
  };
}

/** Passes every item on, marked, and adds nothing at the end. */
function mark(tag: string): ItemStep {
  return { push: (i) => [item(`${i.ev.raw}+${tag}`)], end: () => [] };
}

describe("item steps run in order inside one source", () => {
  it("passes an item through every step in order", () => {
    expect(raws(runSteps([mark("a"), mark("b")], item("x")))).toEqual(["x+a+b"]);
    expect(raws(runSteps([], item("x")))).toEqual(["x"]);
  });

  it("drops nothing an earlier step releases at the end: it still passes the later steps", () => {
    const steps = [holdAll("h"), mark("m")];
    expect(raws(runSteps(steps, item("1")))).toEqual([]);
    expect(raws(runSteps(steps, item("2")))).toEqual([]);
    expect(raws(endSteps(steps))).toEqual(["1>h+m", "2>h+m", "end:h+m"]);
  });

  it("ends a later step after what the earlier ones released has reached it", () => {
    const steps = [holdAll("a"), holdAll("b")];
    runSteps(steps, item("x"));
    expect(raws(endSteps(steps))).toEqual(["x>a>b", "end:a>b", "end:b"]);
  });
});
