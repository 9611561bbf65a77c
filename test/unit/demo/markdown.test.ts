import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { countRedactions, parseInline, parseMarkdown } from "../../../public/demo/markdown.ts";

describe("the demo page's Markdown reader", () => {
  it("reads paragraphs, headings, both kinds of list and a fenced code block", () => {
    const blocks = parseMarkdown(
      "# Title\n\nFirst line\nsecond line.\n\n- one\n- two\n  more of two\n\n3. three\n4. four\n\n```ts\nconst a = 1;\n\nconst b = 2;\n```\nAfter.",
    );
    expect(blocks).toEqual([
      { kind: "heading", level: 1, inlines: [{ kind: "text", text: "Title" }] },
      { kind: "paragraph", inlines: [{ kind: "text", text: "First line\nsecond line." }] },
      {
        kind: "list",
        ordered: false,
        start: 1,
        items: [[{ kind: "text", text: "one" }], [{ kind: "text", text: "two\nmore of two" }]],
      },
      {
        kind: "list",
        ordered: true,
        start: 3,
        items: [[{ kind: "text", text: "three" }], [{ kind: "text", text: "four" }]],
      },
      { kind: "code", language: "ts", text: "const a = 1;\n\nconst b = 2;", closed: true },
      { kind: "paragraph", inlines: [{ kind: "text", text: "After." }] },
    ]);
  });

  it("keeps a code block whose closing fence has not streamed in yet, marked open", () => {
    expect(parseMarkdown("Look:\n```\nlet x")).toEqual([
      { kind: "paragraph", inlines: [{ kind: "text", text: "Look:" }] },
      { kind: "code", language: "", text: "let x", closed: false },
    ]);
  });

  it("reads inline code literally, bold around text, and the guardrail's marks", () => {
    expect(parseInline("Run `a **b** [REDACTED:email]` then **go [REDACTED:email]** now")).toEqual([
      { kind: "text", text: "Run " },
      { kind: "code", text: "a **b** [REDACTED:email]" },
      { kind: "text", text: " then " },
      {
        kind: "strong",
        children: [
          { kind: "text", text: "go " },
          { kind: "redaction", text: "[REDACTED:email]", rule: "email" },
        ],
      },
      { kind: "text", text: " now" },
    ]);
  });

  it("keeps a backtick with no partner as text, and a double-backtick span holding one", () => {
    expect(parseInline("a ` b")).toEqual([{ kind: "text", text: "a ` b" }]);
    expect(parseInline("``x ` y``")).toEqual([{ kind: "code", text: "x ` y" }]);
  });

  it("keeps markup from the model as text: it is never an element", () => {
    const text = '<img src=x onerror="alert(1)"> and <script>alert(2)</script>';
    expect(parseMarkdown(text)).toEqual([{ kind: "paragraph", inlines: [{ kind: "text", text }] }]);
  });

  it("loses no character of text that is not Markdown", () => {
    const text = "a * b _c_ [link](http://x) 1) <b> ~~s~~";
    expect(parseMarkdown(text)).toEqual([{ kind: "paragraph", inlines: [{ kind: "text", text }] }]);
  });

  it("counts the guardrail's redactions", () => {
    expect(countRedactions("x [REDACTED:email] y [REDACTED:payment_card] [REDACTED:]")).toBe(2);
  });
});

describe("the demo page's scripts", () => {
  it("never hand text to an HTML parser: no innerHTML, outerHTML, insertAdjacentHTML or document.write", () => {
    const dir = path.resolve(import.meta.dirname, "../../../public/demo");
    const found = readdirSync(dir)
      .filter((file) => file.endsWith(".ts"))
      .filter((file) =>
        /innerHTML|outerHTML|insertAdjacentHTML|document\.write|createContextualFragment|DOMParser/.test(
          readFileSync(path.join(dir, file), "utf8"),
        ),
      );
    expect(found).toEqual([]);
  });
});
