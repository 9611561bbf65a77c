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
  /** Cloudflare colo and client country from `request.cf`, for analytics. */
  readonly colo: string;
  readonly country: string;
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

/** The request facts every plan carries. */
export function planContext(request: Request, receivedAt: number, principal: string) {
  return { receivedAt, ...locationFromCf(request.cf), principal };
}
