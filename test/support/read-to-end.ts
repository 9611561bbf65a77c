/**
 * The whole body of a response, or a failure naming the last bytes that arrived when the response did
 * not close within `ms`: a test of how a stream ends must fail on a response that never closes,
 * rather than wait for the test runner's timeout.
 */
export async function readToEnd(res: Response, ms = 10_000): Promise<string> {
  const reader = res.body?.getReader();
  if (reader === undefined) return "";
  const decoder = new TextDecoder();
  let text = "";
  const deadline = Date.now() + ms;
  for (;;) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const next = await Promise.race([
      reader.read(),
      new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), Math.max(0, deadline - Date.now()));
      }),
    ]);
    clearTimeout(timer);
    if (next === "timeout") {
      await reader.cancel().catch(() => {});
      throw new Error(
        `the response did not close within ${ms} ms; the last bytes were:\n${text.slice(-500)}`,
      );
    }
    if (next.done) return text + decoder.decode();
    text += decoder.decode(next.value, { stream: true });
  }
}
