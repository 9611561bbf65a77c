import { h } from "./dom.ts";

/** How long "Copied" stays on the button before its label comes back. */
const FEEDBACK_MS = 1500;

/**
 * A button that copies `text()` to the clipboard and says whether it worked on the button itself
 * (its label is what a screen reader announces when it changes under focus). The Clipboard API needs
 * a secure context (https, or localhost); elsewhere the button says it could not copy.
 */
export function copyButton(label: string, text: () => string, attrs: Readonly<Record<string, string>> = {}) {
  const button = h("button", { type: "button", class: "copy", ...attrs }, label);
  let timer: ReturnType<typeof setTimeout> | undefined;
  button.addEventListener("click", async () => {
    let said: string;
    try {
      await navigator.clipboard.writeText(text());
      said = "Copied";
    } catch {
      said = "Could not copy";
    }
    button.textContent = said;
    button.dataset.copied = said === "Copied" ? "true" : "false";
    clearTimeout(timer);
    timer = setTimeout(() => {
      button.textContent = label;
    }, FEEDBACK_MS);
  });
  return button;
}
