/**
 * The recommended proxy configurations, read from docs/proxies.md itself (the fenced block after
 * each `<!-- proxies-test:NAME -->` marker), so the tests prove exactly what the guide tells people.
 */
import { readFileSync } from "node:fs";
import path from "node:path";

/** The address the guide's snippets use for the gateway; tests put the real one in its place. */
export const DOC_GATEWAY = "127.0.0.1:8787";

/** The code block of docs/proxies.md marked `<!-- proxies-test:name -->`. */
export function documentedConfig(name: string): string {
  const doc = readFileSync(path.resolve(process.cwd(), "docs/proxies.md"), "utf8");
  const marker = `<!-- proxies-test:${name} -->`;
  const at = doc.indexOf(marker);
  if (at === -1) throw new Error(`docs/proxies.md has no ${marker}`);
  const block = /```[a-z]*\n([\s\S]*?)```/.exec(doc.slice(at + marker.length));
  if (block?.[1] === undefined) throw new Error(`no code block after ${marker}`);
  return block[1];
}
