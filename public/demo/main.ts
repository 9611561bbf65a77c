/**
 * The demo page's script, bundled into /demo.js by scripts/build-static.ts; the client library is
 * not bundled in but imported from /client.js, the same file any other page would use.
 */
import { Chat } from "./chat.ts";
import { byId } from "./dom.ts";
import { setUpProbePanel } from "./probe-panel.ts";
import { StatusLine } from "./status-line.ts";
import { StreamPanel } from "./stream-panel.ts";

/** The model selected at first: the demo provider always exists, with no key and no network. */
const DEFAULT_MODEL = "demo/story";

/** Fills the model list from the gateway; on failure the default option stays. */
async function loadModels(select: HTMLSelectElement): Promise<void> {
  try {
    const res = await fetch("/v1/models");
    const body: unknown = await res.json();
    if (typeof body !== "object" || body === null || !("data" in body) || !Array.isArray(body.data)) return;
    const ids = body.data.flatMap((m: unknown) =>
      typeof m === "object" && m !== null && "id" in m && typeof m.id === "string" ? [m.id] : [],
    );
    if (ids.length === 0) return;
    select.replaceChildren(
      ...ids.map((id) => new Option(id, id, id === DEFAULT_MODEL, id === DEFAULT_MODEL)),
    );
  } catch {
    // The default option stays: the demo provider always exists.
  }
}

const prompt = byId("prompt", HTMLTextAreaElement);
const model = byId("model", HTMLSelectElement);
const chat = new Chat(
  {
    prompt,
    model,
    transport: byId("transport", HTMLSelectElement),
    send: byId("send", HTMLButtonElement),
    drop: byId("drop", HTMLButtonElement),
    stop: byId("stop", HTMLButtonElement),
    conversation: byId("conversation", HTMLElement),
  },
  new StatusLine(byId("log", HTMLElement)),
  new StreamPanel(),
);

byId("chat", HTMLFormElement).addEventListener("submit", (event) => {
  event.preventDefault();
  void chat.send();
});

// Enter sends and Shift+Enter adds a line, as in every chat; Ctrl/Cmd+Enter sends too. While an input
// method composes (Japanese, Chinese...), Enter confirms the composition and must not send.
prompt.addEventListener("keydown", (event) => {
  if (event.key !== "Enter" || event.shiftKey || event.isComposing) return;
  event.preventDefault();
  void chat.send();
});

// Escape stops the answer from anywhere on the page, so the keyboard never has to find the button.
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && chat.busy) chat.stop();
});

byId("drop", HTMLButtonElement).addEventListener("click", () => chat.drop());
byId("stop", HTMLButtonElement).addEventListener("click", () => chat.stop());
byId("new-chat", HTMLButtonElement).addEventListener("click", () => chat.newChat());
setUpProbePanel();
void loadModels(model);
