import { GatewayError } from "../errors.ts";
import type { BodySource } from "../pipeline/body-source.ts";
import { ERROR_CODE } from "../protocol.ts";
import { FAMILIES, FORMATS } from "../upstream/registry.ts";
import { type AttemptCall, type OpenExchange, openAttempt } from "./attempt.ts";
import { backoffMs, sleep } from "./backoff.ts";
import type { CircuitBreakers } from "./circuit.ts";
import { FIRST_TOKEN_HOLD_MS, untilFirstContent } from "./first-content.ts";
import type { Attempt, StreamPlan } from "./plan.ts";
import { type AttemptFailure, classifyError, streamFailure } from "./retry.ts";

/** One attempt that did not answer, as logged and listed in a stream's status. Never a key or a prompt. */
export interface AttemptRecord {
  readonly target: string;
  /** HTTP status of the failure (the gateway's own 502/504 for connection failures and timeouts). */
  readonly status: number;
  readonly code: string;
  readonly message: string;
  readonly ms: number;
}

/** The attempt that answered. */
export interface Answer {
  readonly x: OpenExchange;
  readonly attempt: Attempt;
  /** For a stream: its bytes from the first one (those read to find the first token, then the rest). */
  readonly source: BodySource | undefined;
  /** Attempts made, the answering one included (skipped targets not counted). */
  readonly attempts: number;
  /** The attempts that failed, in order. */
  readonly failed: readonly AttemptRecord[];
  /** Whether the answer came from a race started by the TTFT deadline. */
  readonly hedged: boolean;
}

/** A stream that failed before its first token, kept so the client can get the upstream's own error. */
interface FailedStream {
  readonly x: OpenExchange;
  readonly source: BodySource;
}

type Try =
  | { readonly ok: true; readonly x: OpenExchange; readonly source: BodySource | undefined }
  | {
      readonly ok: false;
      readonly failure: AttemptFailure;
      readonly ms: number;
      readonly stream?: FailedStream;
    };

/**
 * Sends one attempt and, for a stream, reads it up to its first token: at most FIRST_TOKEN_HOLD_MS,
 * or as long as it takes when it races another attempt (`race`: only a first token wins a race).
 */
async function tryOnce(plan: StreamPlan, attempt: Attempt, call: AttemptCall, race = false): Promise<Try> {
  const started = Date.now();
  let x: OpenExchange;
  try {
    x = await openAttempt(attempt, call);
  } catch (err) {
    return { ok: false, failure: classifyError(err), ms: Date.now() - started };
  }
  x.state.userText = plan.userText;
  if (!plan.stream || !x.isStream || x.upstream.body === null) return { ok: true, x, source: undefined };
  const format =
    attempt.translate === undefined ? FORMATS[plan.format] : FAMILIES[attempt.translate.family].streamFormat;
  const first = await untilFirstContent(
    x.upstream.body,
    format,
    call.config.maxEventBytes,
    race ? Number.POSITIVE_INFINITY : FIRST_TOKEN_HOLD_MS,
  );
  if (first.ok) return { ok: true, x, source: first.source };
  const failure = streamFailure(attempt.provider, first.why);
  return { ok: false, failure, ms: Date.now() - started, stream: { x, source: first.source } };
}

/** Frees a failed stream kept for the last word. */
function release(stream: FailedStream | undefined): void {
  if (stream === undefined) return;
  stream.x.abort.abort("failed before its first token");
  stream.source.cancel("failed before its first token").catch(() => {});
}

/** Stops a losing attempt at once, so its tokens stop being paid for. */
function abandon(t: Try): void {
  if (!t.ok) {
    release(t.stream);
    return;
  }
  t.x.abort.abort("another attempt answered first");
  t.source?.cancel("another attempt answered first").catch(() => {});
}

/** An attempt and how it went. */
interface Outcome {
  readonly attempt: Attempt;
  readonly result: Try;
}

/** What a (possibly hedged) try came to: the answering attempt, or the failures. */
interface Raced {
  readonly winner: (Outcome & { readonly result: Try & { readonly ok: true } }) | undefined;
  readonly failures: readonly Outcome[];
  readonly hedged: boolean;
}

/**
 * Runs `current`; when the TTFT deadline passes without its first token and a `next` target exists,
 * starts `next` alongside: the first to produce a content token wins and the other is aborted at
 * once. An instant error frame never wins: only a content token (or a normal end) counts.
 */
async function raced(
  plan: StreamPlan,
  current: Attempt,
  next: Attempt | undefined,
  call: AttemptCall,
  deadlineMs: number,
  circuits: CircuitBreakers,
): Promise<Raced> {
  const alone = (o: Outcome): Raced =>
    o.result.ok
      ? { winner: { attempt: o.attempt, result: o.result }, failures: [], hedged: false }
      : { winner: undefined, failures: [o], hedged: false };
  const racing = deadlineMs > 0 && next !== undefined;
  const first = tryOnce(plan, current, call, racing).then((result) => ({ attempt: current, result }));
  if (deadlineMs <= 0 || next === undefined) return alone(await first);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), deadlineMs);
  });
  const early = await Promise.race([first, deadline]);
  clearTimeout(timer);
  if (early !== undefined) return alone(early);
  circuits.begin(next.target);
  const second = tryOnce(plan, next, call, true).then((result) => ({ attempt: next, result }));
  return new Promise<Raced>((resolve) => {
    const failures: Outcome[] = [];
    let decided = false;
    const settle = (o: Outcome) => {
      if (decided) return abandon(o.result);
      if (o.result.ok) {
        decided = true;
        return resolve({ winner: { attempt: o.attempt, result: o.result }, failures, hedged: true });
      }
      failures.push(o);
      if (failures.length === 2) {
        decided = true;
        resolve({ winner: undefined, failures, hedged: true });
      }
    };
    void first.then(settle);
    void second.then(settle);
  });
}

/**
 * The attempt loop, up to the first token: each target of the plan in order, each retried on the
 * failures worth retrying (with a jittered backoff, honouring `retry-after` up to a cap), a target
 * whose circuit is open skipped at once, a target that failed for good left for the next. The first
 * attempt that answers wins; when all fail, the most informative error is thrown (the last one that
 * retrying could not fix, else the last one). Every failed attempt is logged as one JSON line.
 */
export async function openAnswer(
  plan: StreamPlan,
  call: AttemptCall,
  circuits: CircuitBreakers,
): Promise<Answer> {
  const { retryAttempts, retryBackoffMs, retryAfterMaxMs, ttftDeadlineMs } = call.config.resilience;
  const failed: AttemptRecord[] = [];
  let made = 0;
  let last: AttemptFailure | undefined;
  let lastFinal: AttemptFailure | undefined;
  // The latest stream that failed before its first token: if nothing else answers, the client gets
  // it as it is (the upstream's own error event, in its own format, or the gateway's in-band error).
  let lastStream: (FailedStream & { readonly attempt: Attempt }) | undefined;
  const record = ({ attempt, result }: Outcome) => {
    if (result.ok) return;
    made++;
    release(lastStream);
    lastStream = result.stream === undefined ? undefined : { ...result.stream, attempt };
    circuits.failure(attempt.target, result.failure.retryAfterMs);
    const { error, action } = result.failure;
    const r = {
      target: attempt.target,
      status: error.status,
      code: error.code,
      message: error.message,
      ms: result.ms,
    };
    failed.push(r);
    console.log(JSON.stringify({ msg: "upstream attempt failed", ...r, action }));
    last = result.failure;
    if (action !== "retry") lastFinal = result.failure;
  };
  // A target whose circuit is open is skipped only while another can be tried: with none left, the
  // request is still sent (skipping would only turn a chance of an answer into a certain error).
  const open = plan.attempts.filter((t) => circuits.allow(t.target));
  const targets = open.length > 0 ? open : plan.attempts;
  const nextAllowed = (after: number) => targets[after + 1];
  for (let i = 0; i < targets.length; i++) {
    const attempt = targets[i];
    if (attempt === undefined) continue;
    for (let n = 1; n <= retryAttempts; n++) {
      if (call.clientGone?.aborted === true) break;
      // Only a target's first try races the next target: a retry has already waited its backoff.
      const hedge = n === 1 && ttftDeadlineMs > 0 ? nextAllowed(i) : undefined;
      circuits.begin(attempt.target);
      const r = await raced(plan, attempt, hedge, call, ttftDeadlineMs, circuits);
      for (const f of r.failures) record(f);
      if (r.winner !== undefined) {
        release(lastStream);
        made++;
        circuits.success(r.winner.attempt.target);
        const { x, source } = r.winner.result;
        return { x, source, attempt: r.winner.attempt, attempts: made, failed, hedged: r.hedged };
      }
      const final = r.failures.find((f) => !f.result.ok && f.result.failure.action === "return");
      if (final !== undefined && !final.result.ok) {
        release(lastStream);
        throw final.result.failure.error;
      }
      // The racing target has had its first try: the loop goes on after it.
      if (r.hedged && hedge !== undefined) {
        i = targets.indexOf(hedge);
        break;
      }
      const mine = r.failures[0]?.result;
      if (mine === undefined || mine.ok || mine.failure.action === "next") break;
      const retryAfter = mine.failure.retryAfterMs;
      // A wait longer than the cap moves on at once; a 429 without retry-after backs off like the rest.
      if (retryAfter !== undefined && retryAfter > retryAfterMaxMs) break;
      if (n < retryAttempts) await sleep(retryAfter ?? backoffMs(n, retryBackoffMs), call.clientGone);
    }
  }
  if (lastStream !== undefined && lastFinal === undefined) {
    const { x, source, attempt } = lastStream;
    return { x, source, attempt, attempts: made, failed, hedged: false };
  }
  release(lastStream);
  throw (lastFinal ?? last)?.error ?? clientLeft();
}

/** No attempt was made: the client left before the first one (nobody reads this answer). */
function clientLeft(): GatewayError {
  return new GatewayError(
    499,
    ERROR_CODE.streamCancelled,
    "the client went away before any upstream attempt",
  );
}
