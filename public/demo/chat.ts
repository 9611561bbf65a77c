import {
  type ChatStream,
  GatewayStreamError,
  StreamInterruptedError,
  streamChat,
} from "../../src/client/index.ts";
import { Conversation } from "./conversation.ts";
import { countRedactions } from "./markdown.ts";
import type { StatusLine } from "./status-line.ts";
import type { StreamPanel } from "./stream-panel.ts";
import { answerNote, INTERRUPT_WHY, type StreamState } from "./stream-state.ts";
import { TurnView } from "./turn-view.ts";

/** The page's controls the chat drives. */
export interface ChatControls {
  readonly prompt: HTMLTextAreaElement;
  readonly model: HTMLSelectElement;
  /** `sse` or `websocket`: how the client library talks to the gateway (the same stream either way). */
  readonly transport: HTMLSelectElement;
  readonly send: HTMLButtonElement;
  readonly drop: HTMLButtonElement;
  readonly stop: HTMLButtonElement;
  readonly conversation: HTMLElement;
}

/** What the page shows while an answer streams in: the text so far and its pace. */
interface Progress {
  text: string;
  /** Code points, as the client counts what it received: an emoji is one character to the reader. */
  characters: number;
  tokens: number;
  firstAt: number;
}

/**
 * The conversation: sends the prompt with the history, streams the answer into a new turn, and says
 * how each answer ended. `document.body.dataset` carries hooks for tests (`done`, `error`, `ended`,
 * `firstTokenAt`, `doneAt`), reset when a new answer starts.
 */
export class Chat {
  readonly #controls: ChatControls;
  readonly #status: StatusLine;
  readonly #panel: StreamPanel;
  #conversation = new Conversation();
  #current: ChatStream | null = null;

  constructor(controls: ChatControls, status: StatusLine, panel: StreamPanel) {
    this.#controls = controls;
    this.#status = status;
    this.#panel = panel;
  }

  /** True while an answer is streaming. */
  get busy(): boolean {
    return this.#current !== null;
  }

  /** Sends the prompt; does nothing while an answer streams (the prompt keeps what was typed). */
  async send(): Promise<void> {
    const { prompt } = this.#controls;
    const text = prompt.value;
    if (this.#current !== null || text.trim() === "") return;
    prompt.value = "";
    prompt.focus();
    const conversation = this.#conversation;
    const { turn, messages } = conversation.start(text);
    const view = new TurnView(text, (shown) => this.#panel.redactions(countRedactions(shown)));
    this.#controls.conversation.append(view.element);
    view.element.scrollIntoView({ block: "nearest" });
    const started = performance.now();
    const hooks = document.body.dataset;
    for (const key of ["done", "error", "ended", "firstTokenAt", "doneAt"]) delete hooks[key];
    this.#panel.reset();
    this.#status.waiting(started);
    this.#setBusy(true);
    const progress: Progress = { text: "", characters: 0, tokens: 0, firstAt: 0 };
    const stream = streamChat({
      url: "/v1/chat/completions",
      transport: this.#controls.transport.value === "websocket" ? "websocket" : "sse",
      body: {
        model: this.#controls.model.value,
        stream: true,
        stream_options: { include_usage: true },
        messages,
      },
      onFirstToken: ({ ttftMs }) => {
        progress.firstAt = performance.now();
        this.#panel.firstToken(ttftMs);
        hooks.firstTokenAt = String(progress.firstAt - started);
      },
      onInterruption: ({ attempt, receivedCharacters, lastEventId }) => {
        view.setState("resuming");
        this.#status.resume({ kind: "resuming", attempt, kept: receivedCharacters, lastEventId });
      },
      onResume: ({ resumes, lastEventId }) => {
        this.#panel.resumes(resumes);
        this.#status.resume({ kind: "resumed", kept: progress.characters, lastEventId });
      },
    });
    this.#current = stream;
    let end: StreamState;
    // The curl line of an interrupted answer picks up where this page stopped; otherwise from the start.
    let lastEventId = 0;
    try {
      for await (const delta of stream) {
        if (delta.type !== "text" && delta.type !== "refusal") continue;
        this.#progress(stream, view, progress, delta.text);
      }
      const result = await stream.done;
      progress.text = result.text || progress.text;
      end = result.filtered
        ? { kind: "guardrail", characters: progress.characters }
        : { kind: "done", events: result.events, finishReason: result.finishReason, resumes: result.resumes };
      this.#panel.timings(result.serverTimings);
      hooks.done = "true";
      hooks.doneAt = String(performance.now() - started);
    } catch (err) {
      end = failure(err, progress.characters);
      if (err instanceof StreamInterruptedError) lastEventId = err.lastEventId;
      if (end.kind !== "stopped") hooks.error = err instanceof Error ? err.message : String(err);
    } finally {
      this.#current = null;
      this.#setBusy(false);
    }
    turn.answer = progress.text;
    view.finish(progress.text, end.kind, answerNote(end));
    hooks.ended = end.kind;
    // New chat while this answer streamed: it stopped it and cleared the screen, which stays clear.
    if (conversation !== this.#conversation) return;
    this.#status.end(end);
    if (stream.streamId !== null && stream.resumeUrl !== null)
      this.#panel.stream(stream.streamId, stream.resumeUrl, lastEventId);
  }

  /** Stops the answer and cancels its generation (Stop, or Escape). */
  stop(): void {
    void this.#current?.abort();
  }

  /** Cuts the connection as a network drop would: the client resumes the same stream. */
  drop(): void {
    this.#current?.interrupt();
  }

  /** Forgets the conversation (stopping an answer still streaming) and empties the screen. */
  newChat(): void {
    this.stop();
    this.#conversation = new Conversation();
    this.#controls.conversation.replaceChildren();
    this.#panel.reset();
    this.#status.end({ kind: "idle" });
    this.#controls.prompt.focus();
  }

  #progress(stream: ChatStream, view: TurnView, progress: Progress, text: string): void {
    if (progress.tokens === 0) {
      view.setState("streaming");
      if (stream.streamId !== null && stream.resumeUrl !== null)
        this.#panel.stream(stream.streamId, stream.resumeUrl, 0);
    }
    progress.text += text;
    for (const _ of text) progress.characters++;
    progress.tokens++;
    view.update(progress.text);
    this.#status.streaming(progress.characters);
    const seconds = (performance.now() - progress.firstAt) / 1000;
    if (progress.tokens > 1 && seconds > 0) this.#panel.tokensPerSecond(progress.tokens / seconds);
  }

  #setBusy(busy: boolean): void {
    this.#controls.send.disabled = busy;
    this.#controls.drop.disabled = !busy;
    this.#controls.stop.disabled = !busy;
  }
}

/** How an answer that did not complete ended, from the error its stream failed with. */
function failure(err: unknown, characters: number): StreamState {
  if (err instanceof Error && err.name === "AbortError") return { kind: "stopped", characters };
  if (err instanceof StreamInterruptedError)
    return { kind: "interrupted", characters, why: INTERRUPT_WHY[err.reason] };
  if (err instanceof GatewayStreamError) {
    const code = err.code === null ? "" : ` (${err.code})`;
    return { kind: "failed", characters, message: `${err.message}${code}` };
  }
  return { kind: "failed", characters, message: err instanceof Error ? err.message : String(err) };
}
