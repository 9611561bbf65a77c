import { gatewayItems, type StreamItem } from "../../pipeline/item.ts";
import type { AsyncItemStep } from "../../pipeline/steps.ts";
import type { StreamState } from "../../pipeline/stream-state.ts";
import { ERROR_CODE, STREAM_OUTCOME } from "../../protocol.ts";
import type { WireFormat } from "../../upstream/format.ts";
import { ChannelText } from "./channel-text.ts";
import { stopMessage, VerdictLog } from "./report.ts";
import { type ClassifierRun, type Lane, laneOf, type Window, windowInput } from "./run.ts";
import type { BoundClassifier, ClassifyResult } from "./types.ts";

/** What a classifier step works with besides its classifiers. */
export interface ClassifierStepContext {
  readonly format: WireFormat;
  readonly state: StreamState;
  readonly abortUpstream: (reason: string) => void;
  /** The conversation's last user message (already through the prompt rules), for message-taking kinds. */
  readonly userText: string | undefined;
  /** `observe` runs every classifier as `async` with `action: "flag"`. */
  readonly observe: boolean;
  readonly now?: () => number;
  readonly log?: VerdictLog;
}

interface Slot {
  readonly channel: string;
  readonly end: number;
}

interface Held {
  readonly item: StreamItem;
  readonly slots: readonly Slot[];
  readonly pushedAt: number;
  /** The stream's end marker: it also waits for the verdicts of `async` classifiers that block. */
  readonly last: boolean;
}

/**
 * The guardrail's classifiers as the stream's last step, after the rules (so a window is sent only
 * once the rules have redacted it). Text is cut into windows per channel every `everyTokens`; each
 * window goes to every classifier with `contextTokens` of the text before it. In `hold` mode an item
 * is released only once every holding classifier's verdicts cover all its text, in arrival order; the
 * source keeps reading meanwhile, up to `maxConcurrent` calls in flight, then waits (`ready`). A
 * `block` ends the stream as a block rule does: the client's own content-filter end, state `blocked`,
 * the upstream aborted, held text dropped. In `async` mode text flows at once and only the end marker
 * waits for the last verdicts.
 */
export class ClassifierStep implements AsyncItemStep {
  readonly #runs: ClassifierRun[];
  readonly #ctx: ClassifierStepContext;
  readonly #now: () => number;
  readonly #log: VerdictLog;
  readonly #channels = new Map<string, ChannelText>();
  readonly #calls = new AbortController();
  #queue: Held[] = [];
  #head = 0;
  #release: (items: readonly StreamItem[]) => void = () => {};
  #waiters: (() => void)[] = [];
  #ended = false;
  #blocked = false;
  #stopped = false;

  constructor(classifiers: readonly BoundClassifier[], ctx: ClassifierStepContext) {
    this.#ctx = ctx;
    this.#now = ctx.now ?? Date.now;
    this.#log = ctx.log ?? new VerdictLog();
    this.#runs = classifiers.map((bound) => {
      const { spec } = bound;
      const action = ctx.observe ? "flag" : spec.action;
      const mode = ctx.observe ? "async" : spec.mode;
      return {
        bound,
        blocks: action === "block",
        holds: action === "block" && mode === "hold",
        everyChars: spec.everyTokens * 4,
        contextChars: spec.contextTokens * 4,
        calls: 0,
        inFlight: 0,
        capped: false,
        lanes: new Map(),
      };
    });
  }

  /** The verdicts' summary so far. */
  get log(): VerdictLog {
    return this.#log;
  }

  attach(release: (items: readonly StreamItem[]) => void): void {
    this.#release = release;
  }

  push(item: StreamItem): readonly StreamItem[] {
    if (this.#blocked || this.#stopped) return [];
    const slots: Slot[] = [];
    for (const part of item.info.parts) {
      const channel = this.#channel(part.channel);
      // A final part is the channel's whole text again (a Responses `.done` copy): the verdicts on
      // what streamed before cover it; only a channel that arrives whole at once is new text.
      if (part.final !== true || channel.length === 0) channel.append(part.text);
      if (part.final === true) channel.finished = true;
      slots.push({ channel: part.channel, end: channel.length });
    }
    const last = item.info.endOfStream === true;
    if (last) for (const ch of this.#channels.values()) ch.finished = true;
    this.#queue.push({ item, slots, pushedAt: this.#now(), last });
    for (const run of this.#runs) this.#pump(run);
    return this.#blocked ? this.#takeBlock() : this.#releasable();
  }

  end(): readonly StreamItem[] {
    if (this.#blocked || this.#stopped) return this.#blocked ? this.#takeBlock() : [];
    this.#ended = true;
    for (const ch of this.#channels.values()) ch.finished = true;
    for (const run of this.#runs) this.#pump(run);
    const out = this.#blocked ? this.#takeBlock() : this.#releasable();
    this.#wake();
    return out;
  }

  ready(): Promise<void> | undefined {
    if (this.#blocked || this.#stopped || !this.#backlogFull()) return undefined;
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  settled(): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (this.#isSettled()) resolve();
        else this.#waiters.push(check);
      };
      check();
    });
  }

  stop(): void {
    this.#stopped = true;
    this.#calls.abort("the stream ended");
    this.#wake();
  }

  #isSettled(): boolean {
    if (this.#blocked || this.#stopped) return true;
    if (!this.#ended || this.#head < this.#queue.length) return false;
    // Flagging classifiers hold nothing back, but their verdicts are still awaited (each within its
    // timeoutMs) so they are logged and counted: the end marker is already out, only the close waits.
    return this.#runs.every((r) => r.inFlight === 0);
  }

  #channel(name: string): ChannelText {
    let ch = this.#channels.get(name);
    if (ch === undefined) {
      ch = new ChannelText();
      this.#channels.set(name, ch);
    }
    return ch;
  }

  /** A holding classifier has every call it may make in flight and a full window waiting. */
  #backlogFull(): boolean {
    for (const run of this.#runs) {
      if (!run.holds || run.inFlight < run.bound.spec.maxConcurrent) continue;
      for (const [name, lane] of run.lanes) {
        if ((this.#channels.get(name)?.length ?? 0) - lane.sent >= run.everyChars) return true;
      }
      for (const [name, ch] of this.#channels)
        if (!run.lanes.has(name) && ch.length >= run.everyChars) return true;
    }
    return false;
  }

  /** Sends every window `run` may send now: full ones, and a finished channel's tail. */
  #pump(run: ClassifierRun): void {
    for (const [name, ch] of this.#channels) {
      const lane = laneOf(run, name);
      for (;;) {
        if (this.#blocked) return;
        const pending = ch.length - lane.sent;
        if (pending <= 0 || (pending < run.everyChars && !ch.finished)) break;
        if (run.calls >= run.bound.spec.maxCallsPerStream) {
          this.#cap(run, name, lane, ch.length);
          continue;
        }
        if (run.inFlight >= run.bound.spec.maxConcurrent) break;
        this.#send(run, name, lane, ch);
      }
    }
    this.#forget();
  }

  #send(run: ClassifierRun, name: string, lane: Lane, ch: ChannelText): void {
    const start = lane.sent;
    const end = ch.length;
    const window: Window = { start, end, done: false };
    lane.windows.push(window);
    lane.sent = end;
    run.calls++;
    run.inFlight++;
    const input = windowInput(this.#ctx.userText, ch.slice(start - run.contextChars, end));
    const began = this.#now();
    run.bound
      .classify(input, this.#calls.signal)
      .catch((): ClassifyResult => ({ ok: false, reason: "error" }))
      .then((result) => this.#verdict(run, name, lane, window, result, this.#now() - began));
  }

  #verdict(
    run: ClassifierRun,
    channel: string,
    lane: Lane,
    w: Window,
    result: ClassifyResult,
    ms: number,
  ): void {
    run.inFlight--;
    if (this.#stopped) return;
    const spec = run.bound.spec;
    const { stop } = this.#log.judge(spec, { channel, start: w.start, end: w.end }, result, ms, run.blocks);
    this.#ctx.state.classifiers = this.#log.summary;
    if (this.#blocked) return;
    if (stop !== undefined) this.#block(spec.name, stopMessage(spec.name, stop, "the answer was stopped"));
    if (this.#blocked) {
      this.#release(this.#takeBlock());
      this.#wake();
      return;
    }
    w.done = true;
    while (lane.windows[0]?.done === true) lane.covered = lane.windows.shift()?.end ?? lane.covered;
    this.#pump(run);
    const out = this.#blocked ? this.#takeBlock() : this.#releasable();
    if (out.length > 0) this.#release(out);
    this.#wake();
  }

  /** The call cap is reached: as on an error, `open` lets the rest pass (recorded once), `closed` blocks. */
  #cap(run: ClassifierRun, channel: string, lane: Lane, end: number): void {
    const spec = run.bound.spec;
    if (!run.capped) {
      run.capped = true;
      const record = {
        classifier: spec.name,
        channel,
        start: lane.sent,
        end,
        flagged: false,
        categories: [],
      };
      this.#log.add({ ...record, latencyMs: 0, outcome: "cap" }, false);
      this.#ctx.state.classifiers = this.#log.summary;
    }
    if (run.blocks && spec.onError === "closed") {
      this.#block(
        spec.name,
        `guardrail classifier "${spec.name}" reached its cap of ${spec.maxCallsPerStream} calls per stream and fails closed: the answer was stopped`,
      );
      return;
    }
    lane.windows.push({ start: lane.sent, end, done: true });
    lane.sent = end;
    while (lane.windows[0]?.done === true) lane.covered = lane.windows.shift()?.end ?? lane.covered;
  }

  #block(name: string, message: string): void {
    this.#blocked = true;
    const state = this.#ctx.state;
    state.stoppedBy = {
      outcome: STREAM_OUTCOME.blocked,
      error: { code: ERROR_CODE.guardrailBlocked, message },
    };
    state.blockedRule = name;
    this.#ctx.abortUpstream(`guardrail:${name}`);
    this.#calls.abort("the answer was blocked");
    this.#queue = [];
    this.#head = 0;
    this.#blockName = name;
  }

  #blockName: string | undefined;

  /** The block's ending, handed out once. */
  #takeBlock(): StreamItem[] {
    const name = this.#blockName;
    if (name === undefined) return [];
    this.#blockName = undefined;
    return gatewayItems(this.#ctx.format.blockedEvents(name, "classifier"), {
      parts: [],
      signal: "complete",
    });
  }

  /** Releases the head of the queue while every classifier that gates it has covered it. */
  #releasable(): StreamItem[] {
    const out: StreamItem[] = [];
    const now = this.#now();
    while (this.#head < this.#queue.length) {
      const held = this.#queue[this.#head];
      if (held === undefined || !this.#covered(held)) break;
      out.push(held.item);
      if (held.slots.length > 0) this.#ctx.state.metrics.holdback(now - held.pushedAt);
      this.#head++;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    return out;
  }

  #covered(held: Held): boolean {
    for (const run of this.#runs) {
      if (held.last) {
        if (!run.blocks) continue;
        for (const [name, ch] of this.#channels) if (laneOf(run, name).covered < ch.length) return false;
        continue;
      }
      if (!run.holds) continue;
      for (const slot of held.slots) if (laneOf(run, slot.channel).covered < slot.end) return false;
    }
    return true;
  }

  /** Drops text no window will need again: before every classifier's next window minus its context. */
  #forget(): void {
    for (const [name, ch] of this.#channels) {
      let keep = ch.length;
      for (const run of this.#runs) keep = Math.min(keep, laneOf(run, name).sent - run.contextChars);
      ch.forget(keep);
    }
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }
}
