import { describe, expect, it } from "vitest";
import { GuardrailCore } from "../../../src/guardrail/index.ts";
import { config, SECRET_TEMPLATES } from "./support.ts";

/** About 1 MB of prose with one of every secret kind per paragraph. */
function megabyte(): string {
  const paragraph = Object.values(SECRET_TEMPLATES)
    .map((template, i) => `Paragraph ${i} says hello, then ${template(i)} and more words 12 34.`)
    .join("\n");
  return `${paragraph}\n`.repeat(Math.ceil(2 ** 20 / (paragraph.length + 1)));
}

describe("scan cost", () => {
  it("searches a bounded amount per event, however long the stream already is", () => {
    const cfg = config();
    const text = megabyte();
    const size = 16;
    const events = Math.ceil(text.length / size);
    const core = new GuardrailCore<number>(cfg);
    const perTenth: number[] = [];
    let last = 0;
    for (let i = 0; i < events; i++) {
      core.push(i, [{ channel: "c0/content", text: text.slice(i * size, (i + 1) * size) }], i);
      if ((i + 1) % Math.floor(events / 10) === 0) {
        perTenth.push(core.stats.searchedChars - last);
        last = core.stats.searchedChars;
      }
    }
    core.end(events);
    expect(text.length).toBeGreaterThanOrEqual(2 ** 20);
    expect(core.stats.released).toBe(events);
    // The last tenth of the stream costs what the first did: nothing is re-read as the answer grows.
    expect(Math.max(...perTenth)).toBeLessThanOrEqual(Math.min(...perTenth) * 1.05);
    // Each rule re-reads at most its undecided tail: on average under two chars per char and rule.
    expect(core.stats.searchedChars).toBeLessThan(text.length * cfg.rules.length * 2);
    expect(core.stats.maxUndecidedChars).toBeLessThanOrEqual(cfg.window.chars);
  });
});
