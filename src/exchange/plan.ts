import { locationFromCf } from "../analytics/data-point.ts";
import type { FormatName } from "../upstream/format.ts";
import type { ApiFamily } from "../upstream/providers.ts";
import type { ChunkIdentity } from "../upstream/translator.ts";

/** One upstream call of a plan: which provider, what to send, and how to translate its answer. */
export interface Attempt {
  /** The target as `<provider>/<model>`: what answered (`x-gateway-target`), the circuit's key. */
  readonly target: string;
  /** Provider name as configured; its key is looked up where the attempt runs, never carried. */
  readonly provider: string;
  /** Path appended to the provider's base URL. */
  readonly path: string;
  readonly body: string;
  /** Format-specific request headers (never credentials). */
  readonly headers: Readonly<Record<string, string>>;
  /** Present when the provider's format is translated into the client's (OpenAI chunks). */
  readonly translate?: { readonly family: ApiFamily; readonly identity: ChunkIdentity };
}

/**
 * Everything needed to run one exchange, as plain data: a route builds it, then it runs either in the
 * worker (direct) or inside the stream's Durable Object (resumable), which rebuilds providers from its
 * own config, so no key ever travels or is stored.
 */
export interface StreamPlan {
  /** `native` or `unified`, for analytics and status. */
  readonly route: string;
  /** The model as `<provider>/<model>` (canonical: an alias is resolved), for analytics and status. */
  readonly model: string;
  /** The format the client receives. */
  readonly format: FormatName;
  readonly stream: boolean;
  /** The upstream calls to try, in order: one today; a fallback chain adds more. */
  readonly attempts: readonly [Attempt, ...Attempt[]];
  /** When the gateway received the request (epoch ms): the start of the gateway's TTFT. */
  readonly receivedAt: number;
  /**
   * Cloudflare colo and client country from `request.cf` (analytics, a stream host's name), set when
   * the plan leaves the edge for a stream object. At the edge they are read from the request only
   * when needed (see `whereFrom`).
   */
  readonly where?: Whereabouts;
  /** The principal's id (a hash or "anonymous", never a credential). */
  readonly principal: string;
  /** The stream's public id (`x-stream-id`), set once the stream is resumable. */
  readonly streamId?: string;
  /**
   * Whether an answer cut mid-stream may be continued from another attempt: not for `n` > 1,
   * logprobs, structured output or `x-continuation: off` (the route decides).
   */
  readonly continuable?: boolean;
  /**
   * The conversation's last user message, after the prompt rules (redacted), sent to the guardrail's
   * message-taking classifiers with each window of the answer; absent without output classifiers.
   */
  readonly userText?: string;
  /** Whether the client asked for deterministic sampling (`temperature: 0` or a `seed`): a replay can reproduce it. */
  readonly replayable?: boolean;
}

/** Where a request came from: the Cloudflare colo and the client's country. */
export interface Whereabouts {
  readonly colo: string;
  readonly country: string;
}

/** What a data point says when nobody told where the request came from. */
export const UNKNOWN_WHERE: Whereabouts = { colo: "unknown", country: "unknown" };

/**
 * The plan's whereabouts, or the request's, read from `request.cf` now. Only when needed: the first
 * read of `request.cf` makes the runtime build the whole object, measurably before the first byte
 * (docs/storage.md), so a direct stream reads it when its data point is written, after its answer.
 */
export function whereFrom(plan: StreamPlan, request: Request): Whereabouts {
  return plan.where ?? locationFromCf(request.cf);
}
