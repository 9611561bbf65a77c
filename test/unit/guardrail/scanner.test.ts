import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { GuardrailCore, isBlock, type Release } from "../../../src/guardrail/index.ts";
import type { TextPart } from "../../../src/upstream/format.ts";
import { config, filler, SECRET_TEMPLATES } from "./support.ts";

const SK = ["s", "k-"].join("");
const KEY = `${SK}proj-${filler(40, 9)}`;
const C = "c0/content";

/** Event ids and rewritten texts of a batch of releases. */
function shape(releases: Release<string>[]): unknown[] {
  return releases.map((r) =>
    isBlock(r) ? { block: r.block.rule } : r.texts ? [r.event, ...r.texts] : r.event,
  );
}

const part = (text: string, channel = C): TextPart[] => [{ channel, text }];

describe("GuardrailCore in enforce mode", () => {
  it("releases prose at once and holds only text that could start a match", () => {
    const core = new GuardrailCore<string>(config());
    expect(shape(core.push("e1", part("Hello there, "), 0))).toEqual(["e1"]);
    expect(shape(core.push("e2", part("see sk"), 1))).toEqual([]);
    expect(shape(core.push("e3", part("-learn docs"), 2))).toEqual(["e2", "e3"]);
  });

  it("rewrites every event a match spans, keeping the mask in the event where it starts", () => {
    const core = new GuardrailCore<string>(config());
    const out = [
      ...core.push("e1", part(`key: ${KEY.slice(0, 10)}`), 0),
      ...core.push("e2", part(KEY.slice(10, 30)), 1),
      ...core.push("e3", part(`${KEY.slice(30)} done`), 2),
    ];
    expect(shape(out)).toEqual([
      ["e1", "key: [REDACTED:openai_key]"],
      ["e2", ""],
      ["e3", " done"],
    ]);
  });

  it("omits texts for an event whose text is unchanged", () => {
    const core = new GuardrailCore<string>(config());
    const [release] = core.push("e1", part("plain words. "), 0);
    expect(release).toEqual({ event: "e1", heldFor: 0 });
  });

  it("keeps events without text behind a held event, in arrival order", () => {
    const core = new GuardrailCore<string>(config());
    expect(shape(core.push("e1", part("token AKIA"), 0))).toEqual([]);
    expect(shape(core.push("ping", [], 1))).toEqual([]);
    expect(shape(core.push("e2", part("rest of it"), 2))).toEqual(["e1", "ping", "e2"]);
  });

  it("reports how long each event was held, from the caller's clock", () => {
    const core = new GuardrailCore<string>(config());
    core.push("e1", part("x AKIA"), 100);
    core.push("e2", part("IOSF"), 130);
    const released = core.push("e3", part("ODNN7EXAMPLE ok"), 175);
    expect(released.map((r) => (isBlock(r) ? -1 : r.heldFor))).toEqual([75, 45, 0]);
    expect(core.stats).toMatchObject({
      events: 3,
      released: 3,
      delayed: 2,
      maxHeldFor: 75,
      totalHeldFor: 120,
    });
  });

  it("holds each channel's tail on its own", () => {
    const core = new GuardrailCore<string>(config());
    expect(shape(core.push("a", part("text ", "ch-a"), 0))).toEqual(["a"]);
    expect(shape(core.push("b", part("args: AIza", "ch-b"), 1))).toEqual([]);
    expect(shape(core.push("a2", part("more text ", "ch-a"), 2))).toEqual([]);
    expect(shape(core.push("b2", part("bad ", "ch-b"), 3))).toEqual(["b", "a2", "b2"]);
  });

  it("decides a channel's tail when told the channel ended, or at the end of the stream", () => {
    const core = new GuardrailCore<string>(config());
    expect(shape(core.push("t", part("thinking about 4111", "thinking"), 0))).toEqual([]);
    expect(shape(core.close("thinking", 1))).toEqual(["t"]);
    expect(shape(core.push("c", part("ends with eyJ"), 2))).toEqual([]);
    expect(shape(core.end(3))).toEqual(["c"]);
    expect(core.push("late", part("x"), 4)).toEqual([]);
  });

  it("scans a final part (a whole-text copy) at once and redacts it like the deltas", () => {
    const core = new GuardrailCore<string>(config());
    const whole = `the key is ${KEY}`;
    const out = core.push("done", [{ channel: "done/c0", text: whole, final: true }], 0);
    expect(shape(out)).toEqual([["done", "the key is [REDACTED:openai_key]"]]);
  });

  it("blocks: releases what came before, then a terminal block, and nothing afterwards", () => {
    const core = new GuardrailCore<string>(config({ builtins: { aws_access_key_id: "block" } }));
    expect(shape(core.push("e1", part("fine. "), 0))).toEqual(["e1"]);
    expect(shape(core.push("e2", part("here AKIAIOSF"), 1))).toEqual([]);
    expect(shape(core.push("e3", part("ODNN7EXAMPLE and more"), 2))).toEqual([
      { block: "aws_access_key_id" },
    ]);
    expect(core.blocked).toEqual({ rule: "aws_access_key_id", channel: C, start: 11 });
    expect(core.push("e4", part("after"), 3)).toEqual([]);
    expect(core.end(4)).toEqual([]);
  });

  it("records verdicts with offsets and never the matched text", () => {
    const core = new GuardrailCore<string>(config());
    const mail = "bob@example.com";
    core.push("e1", part(`mail ${mail} or `), 0);
    core.push("e2", part(KEY), 1);
    core.end(2);
    expect(core.verdicts).toEqual([
      { rule: "email", action: "flag", channel: C, start: 5, end: 5 + mail.length },
      { rule: "openai_key", action: "redact", channel: C, start: 24, end: 24 + KEY.length },
    ]);
    expect(JSON.stringify(core.verdicts)).not.toContain(mail);
  });

  it("holds a clamped rule no longer than the window cap (matches longer than it are best effort)", () => {
    const cfg = config({ windowTokens: 5, builtins: { email: "redact" } });
    expect(cfg.window).toEqual({
      chars: 20,
      tokens: 5,
      rule: "email",
      capChars: 20,
      clamped: [
        "openai_key",
        "anthropic_key",
        "github_token",
        "google_api_key",
        "jwt",
        "private_key",
        "payment_card",
        "email",
      ],
    });
    const core = new GuardrailCore<string>(cfg);
    for (const [i, ch] of [..."write to someone.with.a.long.name@example.com now"].entries())
      core.push(`e${i}`, part(ch), i);
    core.end(99);
    expect(core.stats.maxUndecidedChars).toBeLessThanOrEqual(20);
  });
});

// Issue 17: under 500 concurrent streams the released events, kept until each stream ended, cost the
// default configuration about 7% of its CPU per event (docs/storage.md).
describe("GuardrailCore's memory of released events", () => {
  /** V8's collector, exposed to this test only (the flag makes a new context's global `gc`). */
  function collector(): () => void {
    setFlagsFromString("--expose-gc");
    return runInNewContext("gc") as () => void;
  }

  /** Pushes 50 events that are released and one that is held, in a frame of its own: no local of the test keeps one alive. */
  function pushed(core: GuardrailCore<{ readonly n: number }>): {
    released: WeakRef<object>[];
    held: WeakRef<object>;
  } {
    const released: WeakRef<object>[] = [];
    for (let n = 0; n < 50; n++) {
      const event = { n };
      released.push(new WeakRef(event));
      expect(core.push(event, part(`word ${n}. `), n)).toHaveLength(1);
    }
    // Text a rule could still match: this event waits for the next one.
    const held = { n: 50 };
    expect(core.push(held, part("see sk"), 50)).toEqual([]);
    return { released, held: new WeakRef(held) };
  }

  it("keeps no reference to an event once it is released, and keeps the one it still holds", async () => {
    const gc = collector();
    const core = new GuardrailCore<{ readonly n: number }>(config());
    const { released, held } = pushed(core);
    // WeakRef targets survive the turn they were read in: collect in a later one.
    await new Promise((resolve) => setTimeout(resolve, 0));
    gc();
    expect(released.map((r) => r.deref()).filter((e) => e !== undefined)).toEqual([]);
    expect(held.deref()).toEqual({ n: 50 });
    const out = core.push({ n: 51 }, part("-learn docs"), 51);
    expect(out.map((r) => (isBlock(r) ? r : r.event))).toEqual([{ n: 50 }, { n: 51 }]);
  });
});

describe("GuardrailCore in observe and off modes", () => {
  it("observe: passes every event at once, unchanged, and still reports verdicts", () => {
    const core = new GuardrailCore<string>(config({ builtins: { aws_access_key_id: "block" } }, "observe"));
    const releases = [...core.push("e1", part(`AKIA`), 0), ...core.push("e2", part("IOSFODNN7EXAMPLE"), 0)];
    expect(releases).toEqual([
      { event: "e1", heldFor: 0 },
      { event: "e2", heldFor: 0 },
    ]);
    core.end(1);
    expect(core.blocked).toBeUndefined();
    expect(core.verdicts.map((v) => [v.rule, v.action])).toEqual([["aws_access_key_id", "block"]]);
  });

  it("off: passes events through without scanning", () => {
    const core = new GuardrailCore<string>(config(undefined, "off"));
    expect(core.push("e1", part(SECRET_TEMPLATES.openai_key?.(1) ?? ""), 0)).toEqual([
      { event: "e1", heldFor: 0 },
    ]);
    core.end(1);
    expect(core.verdicts).toEqual([]);
  });
});
