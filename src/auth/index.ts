export { constantTimeEqual } from "./bytes.ts";
export { CREDENTIAL_HEADER, presentedCredential } from "./credentials.ts";
export { findGatewayKey, type GatewayKey, gatewayKeys, parseGatewayKeys } from "./gateway-keys.ts";
export { type GatewayClaims, type JwtResult, signJwt, verifyJwt } from "./jwt.ts";
export { DEFAULT_ANONYMOUS_MODELS, matchesModel } from "./model-patterns.ts";
export {
  ANONYMOUS_PRINCIPAL,
  type AuthEnv,
  assertMayUseModel,
  authenticate,
  mayUseModel,
  type Principal,
  type PrincipalKind,
} from "./principal.ts";
export {
  bindingLimiter,
  checkRateLimit,
  enforceRateLimit,
  limiterFor,
  type RateLimitEnv,
  type RateLimiter,
  rateLimitKey,
} from "./rate-limit.ts";
export {
  mintResumeToken,
  RESUME_TOKEN_PARAM,
  RESUME_TOKEN_TTL_SECONDS,
  type ResumeTokenResult,
  resumeSecretOf,
  verifyResumeToken,
} from "./resume-token.ts";
export { resumeTokenFor, streamPrincipalId } from "./stream-access.ts";
