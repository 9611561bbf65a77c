/** Keys under which no message text lives (identifiers, enums, media), as in the prompt guard. */
const NOT_TEXT = new Set([
  "role",
  "type",
  "id",
  "name",
  "call_id",
  "tool_call_id",
  "tool_use_id",
  "data",
  "url",
  "mime_type",
  "mimeType",
  "media_type",
  "signature",
  "thoughtSignature",
]);

function texts(node: unknown, out: string[]): void {
  if (typeof node === "string") {
    out.push(node);
    return;
  }
  if (Array.isArray(node)) {
    for (const v of node) texts(v, out);
    return;
  }
  if (typeof node !== "object" || node === null) return;
  for (const [key, value] of Object.entries(node)) if (!NOT_TEXT.has(key)) texts(value, out);
}

function lastUser(node: unknown): unknown {
  let found: unknown;
  const visit = (n: unknown): void => {
    if (Array.isArray(n)) {
      for (const v of n) visit(v);
      return;
    }
    if (typeof n !== "object" || n === null) return;
    const obj = n as Record<string, unknown>;
    if (obj.role === "user") found = obj;
    else for (const v of Object.values(obj)) visit(v);
  };
  visit(node);
  return found;
}

/**
 * The conversation's last user message as text, whatever the request format: the last object with
 * `role: "user"` in document order (Chat Completions, Anthropic and Gemini messages, Responses input
 * items), its strings joined; else a Responses `input` string. A format-agnostic walk, like the prompt
 * guard's, so no route branches on a provider. Undefined when the request has none.
 */
export function lastUserText(body: Record<string, unknown>): string | undefined {
  const user = lastUser(body);
  if (user !== undefined) {
    const out: string[] = [];
    texts(user, out);
    return out.join("\n");
  }
  return typeof body.input === "string" ? body.input : undefined;
}
