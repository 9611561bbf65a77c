import { CREDENTIAL_HEADER, unauthorized } from "./credentials.ts";
import { type AuthEnv, authenticate, type Principal } from "./principal.ts";
import { mintResumeToken, RESUME_TOKEN_PARAM, resumeSecretOf, verifyResumeToken } from "./resume-token.ts";

function hasHeaderCredential(headers: Headers): boolean {
  return Object.values(CREDENTIAL_HEADER).some((name) => (headers.get(name) ?? "").trim() !== "");
}

/**
 * The principal id a `/v1/streams/{id}` request acts as, to be compared with the stream's owner:
 * a valid `?token=` resume token for this stream wins (EventSource cannot send headers); otherwise
 * the request's own credentials. A bad token and no other credential is a 401 naming the reason.
 */
export async function streamPrincipalId(request: Request, env: AuthEnv, streamId: string): Promise<string> {
  const token = new URL(request.url).searchParams.get(RESUME_TOKEN_PARAM);
  const secret = resumeSecretOf(env);
  if (token !== null && token !== "" && secret !== undefined) {
    const result = await verifyResumeToken(token, streamId, secret);
    if (result.ok) return result.principalId;
    if (!hasHeaderCredential(request.headers)) throw unauthorized(result.message);
  }
  return (await authenticate(request, env)).id;
}

/**
 * A resume token for a new stream (for the `x-resume-token` header), or undefined when none is
 * needed (anonymous callers resume without credentials) or no resume-token secret is configured.
 */
export async function resumeTokenFor(
  env: AuthEnv,
  streamId: string,
  principal: Principal,
  ttlSeconds?: number,
): Promise<string | undefined> {
  if (principal.kind === "anonymous") return undefined;
  const secret = resumeSecretOf(env);
  if (secret === undefined) return undefined;
  return mintResumeToken(streamId, principal.id, secret, ttlSeconds);
}
