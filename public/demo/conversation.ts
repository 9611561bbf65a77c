/** One message of an OpenAI Chat Completions request. */
export interface ChatMessage {
  readonly role: "user" | "assistant";
  readonly content: string;
}

/** One exchange: what the user sent and what has arrived of the answer. */
export interface Turn {
  readonly user: string;
  answer: string;
}

/**
 * The chat so far, sent as history with every new message. A turn whose answer never got a
 * character (it failed before the first token) stays on screen but is left out of the history: a
 * question without its answer would make the next one read as a double question. A partial answer
 * (stopped, interrupted) is what the user saw, so the model sees it too.
 */
export class Conversation {
  #turns: Turn[] = [];

  /** The turns so far, oldest first. */
  get turns(): readonly Turn[] {
    return this.#turns;
  }

  /** Starts a turn and returns it with the messages to send: the history, then `user`. */
  start(user: string): { readonly turn: Turn; readonly messages: ChatMessage[] } {
    const messages: ChatMessage[] = [];
    for (const turn of this.#turns) {
      if (turn.answer === "") continue;
      messages.push({ role: "user", content: turn.user }, { role: "assistant", content: turn.answer });
    }
    messages.push({ role: "user", content: user });
    const turn: Turn = { user, answer: "" };
    this.#turns.push(turn);
    return { turn, messages };
  }

  /** Forgets every turn (New chat); a turn still streaming is no longer part of the chat. */
  clear(): void {
    this.#turns = [];
  }
}
