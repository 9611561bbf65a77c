/**
 * A small Markdown reader for the model's answers: paragraphs, headings, lists, fenced code blocks,
 * inline code and bold, and the guardrail's `[REDACTED:<rule>]` marks. It produces plain data, never
 * HTML: the page builds DOM nodes from it with `textContent`, so whatever markup the model writes
 * (`<img onerror>`, `<script>`) stays text. Anything it does not know is kept as text, never dropped.
 */

/** A run of text inside a block. */
export type Inline =
  | { readonly kind: "text"; readonly text: string }
  | { readonly kind: "code"; readonly text: string }
  | { readonly kind: "strong"; readonly children: readonly Inline[] }
  | { readonly kind: "redaction"; readonly text: string; readonly rule: string };

/** One block of the answer. */
export type Block =
  | { readonly kind: "paragraph"; readonly inlines: readonly Inline[] }
  | { readonly kind: "heading"; readonly level: number; readonly inlines: readonly Inline[] }
  | {
      readonly kind: "list";
      readonly ordered: boolean;
      /** The first item's number (ordered lists may start anywhere). */
      readonly start: number;
      readonly items: readonly (readonly Inline[])[];
    }
  | {
      readonly kind: "code";
      readonly language: string;
      readonly text: string;
      /** False while the closing fence has not arrived yet (a streaming answer). */
      readonly closed: boolean;
    };

const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([^\s`]*)/;
const HEADING = /^ {0,3}(#{1,6})\s+(.*?)(?:\s+#+)?\s*$/;
const BULLET = /^ {0,3}[-*+]\s+(.*)$/;
const NUMBERED = /^ {0,3}(\d{1,9})[.)]\s+(.*)$/;
const BLANK = /^\s*$/;
/** The guardrail's redaction mask (src/guardrail): the rule names are lower-case words. */
const REDACTION = /\[REDACTED:([a-z0-9_]+)\]/g;
const STRONG = /\*\*(?=\S)(.+?)\*\*/g;

interface OpenList {
  readonly ordered: boolean;
  readonly start: number;
  readonly items: string[][];
}

/** Parses a (possibly still streaming) answer into blocks. */
export function parseMarkdown(source: string): Block[] {
  const lines = source.replace(/\r\n?/g, "\n").split("\n");
  const blocks: Block[] = [];
  let paragraph: string[] = [];
  let list: OpenList | undefined;
  const flush = (): void => {
    if (paragraph.length > 0) blocks.push({ kind: "paragraph", inlines: parseInline(paragraph.join("\n")) });
    paragraph = [];
    if (list !== undefined) {
      const items = list.items.map((item) => parseInline(item.join("\n")));
      blocks.push({ kind: "list", ordered: list.ordered, start: list.start, items });
    }
    list = undefined;
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? "";
    const fence = FENCE.exec(line);
    if (fence !== null) {
      flush();
      const marker = fence[1] ?? "```";
      const body: string[] = [];
      let closed = false;
      for (i++; i < lines.length; i++) {
        const inner = lines[i] ?? "";
        if (isClosingFence(inner, marker)) {
          closed = true;
          break;
        }
        body.push(inner);
      }
      blocks.push({ kind: "code", language: fence[2] ?? "", text: body.join("\n"), closed });
      continue;
    }
    if (BLANK.test(line)) {
      // A blank line ends a paragraph; a list goes on if its next item follows the blank line.
      if (paragraph.length > 0) flush();
      continue;
    }
    const heading = HEADING.exec(line);
    if (heading !== null) {
      flush();
      blocks.push({
        kind: "heading",
        level: heading[1]?.length ?? 1,
        inlines: parseInline(heading[2] ?? ""),
      });
      continue;
    }
    const bullet = BULLET.exec(line);
    const numbered = bullet === null ? NUMBERED.exec(line) : null;
    if (bullet !== null || numbered !== null) {
      const ordered = numbered !== null;
      if (paragraph.length > 0 || (list !== undefined && list.ordered !== ordered)) flush();
      list ??= { ordered, start: ordered ? Number(numbered?.[1] ?? 1) : 1, items: [] };
      list.items.push([(bullet?.[1] ?? numbered?.[2] ?? "").trim()]);
      continue;
    }
    const item = list?.items.at(-1);
    const previousBlank = BLANK.test(lines[i - 1] ?? "");
    if (item !== undefined && !previousBlank) {
      // A line right under an item continues it (CommonMark's lazy continuation).
      item.push(line.trim());
      continue;
    }
    if (list !== undefined) flush();
    paragraph.push(line.trim());
  }
  flush();
  return blocks;
}

function isClosingFence(line: string, marker: string): boolean {
  const trimmed = line.trim();
  const char = marker.charAt(0);
  return trimmed.length >= marker.length && [...trimmed].every((c) => c === char);
}

/** Inline code first (nothing inside it is Markdown), then bold and redactions in the rest. */
export function parseInline(text: string): Inline[] {
  const out: Inline[] = [];
  let rest = text;
  for (;;) {
    const open = /`+/.exec(rest);
    if (open === null) break;
    const ticks = open[0];
    const afterOpen = open.index + ticks.length;
    const close = findClosingTicks(rest, ticks, afterOpen);
    if (close === -1) {
      // No closing run: the backticks are literal (or the code span is still streaming in).
      out.push(...parseStrong(rest.slice(0, afterOpen)));
      rest = rest.slice(afterOpen);
      continue;
    }
    out.push(...parseStrong(rest.slice(0, open.index)));
    out.push({ kind: "code", text: trimCodeSpan(rest.slice(afterOpen, close)) });
    rest = rest.slice(close + ticks.length);
  }
  out.push(...parseStrong(rest));
  return mergeText(out);
}

/** The start of the next run of exactly as many backticks as opened the span, or -1. */
function findClosingTicks(text: string, ticks: string, from: number): number {
  const run = /`+/g;
  run.lastIndex = from;
  for (let m = run.exec(text); m !== null; m = run.exec(text)) if (m[0] === ticks) return m.index;
  return -1;
}

/** CommonMark strips one space on each side of a code span that has text besides spaces. */
function trimCodeSpan(code: string): string {
  const flat = code.replace(/\n/g, " ");
  return flat.length > 2 && flat.startsWith(" ") && flat.endsWith(" ") && flat.trim() !== ""
    ? flat.slice(1, -1)
    : flat;
}

function parseStrong(text: string): Inline[] {
  const out: Inline[] = [];
  let last = 0;
  for (const m of text.matchAll(STRONG)) {
    out.push(...parseRedactions(text.slice(last, m.index)));
    out.push({ kind: "strong", children: parseRedactions(m[1] ?? "") });
    last = m.index + m[0].length;
  }
  out.push(...parseRedactions(text.slice(last)));
  return out;
}

function parseRedactions(text: string): Inline[] {
  const out: Inline[] = [];
  let last = 0;
  for (const m of text.matchAll(REDACTION)) {
    if (m.index > last) out.push({ kind: "text", text: text.slice(last, m.index) });
    out.push({ kind: "redaction", text: m[0], rule: m[1] ?? "" });
    last = m.index + m[0].length;
  }
  if (last < text.length) out.push({ kind: "text", text: text.slice(last) });
  return out;
}

/** Joins neighbouring text runs (an unclosed backtick splits them), so the DOM gets one node per run. */
function mergeText(inlines: readonly Inline[]): Inline[] {
  const out: Inline[] = [];
  for (const inline of inlines) {
    const prev = out.at(-1);
    if (inline.kind === "text" && prev?.kind === "text")
      out[out.length - 1] = { kind: "text", text: prev.text + inline.text };
    else out.push(inline);
  }
  return out;
}

/** How many guardrail redactions the text carries. */
export function countRedactions(text: string): number {
  let count = 0;
  for (const _ of text.matchAll(REDACTION)) count++;
  return count;
}
