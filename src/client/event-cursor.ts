// The gateway numbers events 1, 2, 3...; anything else cannot be compared, so it is not a cursor.
const SEQUENCE = /^[0-9]{1,15}$/;

/** What to do with an incoming event. */
export type EventVerdict = "new" | "replayed" | "gap";

/**
 * Tracks the last event id across connections: it is the resume cursor, and it lets the client
 * apply every event exactly once whatever a replay repeats.
 */
export class EventCursor {
  #last = 0;
  #events = 0;
  // Set by a resume: its first new event must be last + 1, or text would silently go missing.
  #expectNext = false;

  /** The id of the last event applied (0 before any): the `Last-Event-ID` to resume from. */
  get last(): number {
    return this.#last;
  }

  /** Events applied, each counted once. */
  get events(): number {
    return this.#events;
  }

  /** Called when a resumed connection starts: its first new event must follow on without a gap. */
  resumed(): void {
    this.#expectNext = true;
  }

  /** Classifies an event by its `id:` field and, when it is new, counts it. */
  accept(id: string | undefined): EventVerdict {
    if (id !== undefined && SEQUENCE.test(id)) {
      const sequence = Number(id);
      // A replay may start before the cursor (or repeat it): everything up to it is already applied.
      if (sequence <= this.#last) return "replayed";
      if (this.#expectNext && sequence !== this.#last + 1) return "gap";
      this.#expectNext = false;
      this.#last = sequence;
    }
    this.#events++;
    return "new";
  }
}
