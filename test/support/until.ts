/** How often a condition is checked: often enough to add little to a test, rarely enough to let the worker run. */
const POLL_MS = 10;

/**
 * Resolves with `check`'s first truthy result, checking every POLL_MS; rejects naming `what` once
 * `ms` have passed without one. For waiting on something the test cannot await directly (a row
 * written by a timer, a state another request changes): the deadline only bounds a failure, a
 * passing test waits exactly as long as the condition takes.
 */
export async function until<T>(
  what: string,
  check: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  ms = 3000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const result = await check();
    if (result !== undefined && result !== null && result !== false) return result;
    if (Date.now() >= deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
