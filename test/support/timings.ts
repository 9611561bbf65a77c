/** The SSE comment the gateway ends every stream with (`: timings {json}`), optionally with its `id:` line. */
const TRAILER = /: timings (\{[^\n]*\})\n(?:id: \d+\n)?\n$/;

/** Splits a received stream into what precedes the timings comment and the parsed timings. */
export function splitTimings(text: string): { body: string; timings: Record<string, unknown> | undefined } {
  const m = TRAILER.exec(text);
  if (m === null) return { body: text, timings: undefined };
  return { body: text.slice(0, m.index), timings: JSON.parse(m[1] ?? "{}") as Record<string, unknown> };
}

/** The received stream without its final timings comment (throws if the comment is missing). */
export function withoutTimings(text: string): string {
  const { body, timings } = splitTimings(text);
  if (timings === undefined) throw new Error("the stream did not end with a timings comment");
  return body;
}
