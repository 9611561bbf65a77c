import type { ServerTimings } from "../../src/client/index.ts";
import { copyButton } from "./copy-button.ts";
import { byId } from "./dom.ts";
import { curlLine, formatMs, serverCells } from "./stream-facts.ts";

/**
 * The numbers of the latest answer: the page's own (time to first token here, tokens per second,
 * resumes, redactions) next to the gateway's (from the stream's closing timings comment), and the
 * stream's full id with a ready `curl` line that reads it again.
 */
export class StreamPanel {
  readonly #cell = (id: string): HTMLElement => byId(id, HTMLElement);
  readonly #section = byId("stream", HTMLElement);
  readonly #streamId = byId("stream-id", HTMLElement);
  readonly #curl = byId("resume-curl", HTMLElement);

  constructor() {
    byId("stream-id-actions", HTMLElement).append(
      copyButton("Copy id", () => this.#streamId.textContent ?? "", { id: "copy-stream-id" }),
    );
    byId("resume-curl-actions", HTMLElement).append(
      copyButton("Copy command", () => this.#curl.textContent ?? "", { id: "copy-curl" }),
    );
  }

  /** Blanks every number for a new answer. */
  reset(): void {
    for (const id of ["ttft", "tps", "gateway-ttft", "upstream-ttft", "overhead", "holdback"])
      this.#cell(id).textContent = "–";
    this.#cell("resumes").textContent = "0";
    this.#cell("redactions").textContent = "0";
    this.#section.hidden = true;
    this.#streamId.textContent = "";
    this.#curl.textContent = "";
  }

  firstToken(ttftMs: number): void {
    this.#cell("ttft").textContent = formatMs(ttftMs);
  }

  tokensPerSecond(value: number): void {
    this.#cell("tps").textContent = value.toFixed(1);
  }

  resumes(count: number): void {
    this.#cell("resumes").textContent = String(count);
  }

  redactions(count: number): void {
    this.#cell("redactions").textContent = String(count);
  }

  /** The stream's id and how to read it again after `lastEventId` (0: the whole stream). */
  stream(id: string, resumeUrl: string, lastEventId: number): void {
    this.#section.hidden = false;
    this.#streamId.textContent = id;
    this.#curl.textContent = curlLine(resumeUrl, lastEventId);
  }

  /** The gateway's own timings; "–" where it sent none (the stream did not finish here). */
  timings(timings: ServerTimings | null): void {
    const cells = serverCells(timings);
    this.#cell("gateway-ttft").textContent = cells.gatewayTtft;
    this.#cell("upstream-ttft").textContent = cells.upstreamTtft;
    this.#cell("overhead").textContent = cells.overhead;
    this.#cell("holdback").textContent = cells.holdback;
  }
}
