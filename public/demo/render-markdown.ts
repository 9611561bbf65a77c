import { h } from "./dom.ts";
import { type Block, type Inline, parseMarkdown } from "./markdown.ts";

/** Replaces `container`'s content with the answer `text`, read as Markdown, as DOM nodes only. */
export function renderMarkdown(container: HTMLElement, text: string): void {
  container.replaceChildren(...parseMarkdown(text).map(renderBlock));
}

function renderBlock(block: Block): HTMLElement {
  switch (block.kind) {
    case "paragraph":
      return h("p", {}, ...block.inlines.map(renderInline));
    case "heading":
      // Answers sit under the page's own h1/h2, so their headings start at h3.
      return h(HEADINGS[Math.min(block.level, 4) - 1] ?? "h6", {}, ...block.inlines.map(renderInline));
    case "list": {
      const items = block.items.map((item) => h("li", {}, ...item.map(renderInline)));
      if (!block.ordered) return h("ul", {}, ...items);
      return h("ol", block.start === 1 ? {} : { start: String(block.start) }, ...items);
    }
    case "code": {
      const code = h("code", block.language === "" ? {} : { "data-language": block.language }, block.text);
      // Scrollable and focusable: a long line scrolls inside its box, by keyboard too, not the page.
      return h("pre", { tabindex: "0", "aria-label": codeLabel(block.language) }, code);
    }
  }
}

const HEADINGS = ["h3", "h4", "h5", "h6"] as const;

function codeLabel(language: string): string {
  return language === "" ? "Code" : `Code (${language})`;
}

function renderInline(inline: Inline): Node {
  switch (inline.kind) {
    case "text":
      return document.createTextNode(inline.text);
    case "code":
      return h("code", {}, inline.text);
    case "strong":
      return h("strong", {}, ...inline.children.map(renderInline));
    case "redaction":
      return h("mark", { title: `removed by the guardrail (${inline.rule})` }, inline.text);
  }
}
