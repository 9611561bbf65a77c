import { copyButton } from "./copy-button.ts";
import { h } from "./dom.ts";
import { renderMarkdown } from "./render-markdown.ts";

/**
 * The id the newest answer carries: scripts and tests read "the answer" by it, as before the page
 * became a chat. Only one element holds it at a time.
 */
const ANSWER_ID = "answer";

/**
 * One exchange on screen: the user's message as typed (text, with its line breaks), the answer as
 * Markdown, a note when it ended other than complete, and a button that copies the answer's text.
 */
export class TurnView {
  readonly element: HTMLElement;
  readonly #answer: HTMLElement;
  readonly #note: HTMLElement;
  readonly #onRender: (text: string) => void;
  #text = "";
  #frame = 0;

  /** `onRender` sees the text each time it is drawn (the page counts redactions in it). */
  constructor(user: string, onRender: (text: string) => void) {
    this.#onRender = onRender;
    document.getElementById(ANSWER_ID)?.removeAttribute("id");
    this.#answer = h("div", { class: "answer", id: ANSWER_ID, "aria-busy": "true" });
    this.#note = h("p", { class: "turn-note", hidden: "" });
    const copy = copyButton("Copy answer", () => this.#text, { "aria-label": "Copy this answer" });
    this.element = h(
      "article",
      { class: "turn", "data-state": "waiting" },
      h("div", { class: "user" }, h("span", { class: "who" }, "You"), h("p", { class: "user-text" }, user)),
      h(
        "div",
        { class: "assistant" },
        h("span", { class: "who" }, "Answer"),
        this.#answer,
        this.#note,
        h("div", { class: "turn-actions" }, copy),
      ),
    );
  }

  /** Shows the answer so far; renders once per frame however many deltas arrive in it. */
  update(text: string): void {
    this.#text = text;
    if (this.#frame !== 0) return;
    this.#frame = requestAnimationFrame(() => {
      this.#frame = 0;
      this.#render();
    });
  }

  /** Shows the final text at once and says how the answer ended. */
  finish(text: string, state: string, note: string | null): void {
    cancelAnimationFrame(this.#frame);
    this.#frame = 0;
    this.#text = text;
    this.#render();
    this.#answer.setAttribute("aria-busy", "false");
    this.setState(state);
    this.#answer.classList.toggle("incomplete", state === "interrupted" || state === "failed");
    this.#note.hidden = note === null;
    this.#note.textContent = note ?? "";
  }

  #render(): void {
    renderMarkdown(this.#answer, this.#text);
    this.#onRender(this.#text);
  }

  /** The state as an attribute, for styles and for tests. */
  setState(state: string): void {
    this.element.dataset.state = state;
  }
}
