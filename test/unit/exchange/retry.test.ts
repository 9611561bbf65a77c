import { describe, expect, it } from "vitest";
import { GatewayError } from "../../../src/errors.ts";
import { classifyError } from "../../../src/exchange/retry.ts";
import { ERROR_CODE } from "../../../src/protocol.ts";
import { UpstreamHttpError } from "../../../src/upstream/call.ts";

const http = (status: number, message = "x", code?: string, retryAfter?: string) =>
  new UpstreamHttpError(status, message, retryAfter === undefined ? {} : { "retry-after": retryAfter }, code);

describe("classifyError: what a failed attempt calls for", () => {
  it("retries rate limits, overload and transient server errors on the same target", () => {
    for (const status of [408, 429, 500, 502, 503, 504, 529])
      expect(classifyError(http(status)).action, `${status}`).toBe("retry");
    expect(classifyError(new GatewayError(502, ERROR_CODE.upstreamUnreachable, "no route")).action).toBe(
      "retry",
    );
  });

  it("moves on after a header timeout and a request too long for the model's context", () => {
    expect(classifyError(new GatewayError(504, ERROR_CODE.upstreamTimeout, "silent")).action).toBe("next");
    expect(classifyError(http(400, "bad", "context_length_exceeded")).action).toBe("next");
    expect(
      classifyError(
        http(
          400,
          'provider "anthropic" returned HTTP 400: prompt is too long: 210000 tokens > 200000 maximum',
        ),
      ).action,
    ).toBe("next");
    expect(
      classifyError(
        http(400, "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576)."),
      ).action,
    ).toBe("next");
  });

  it("returns client errors, refusals and the gateway's own refusals at once", () => {
    for (const status of [400, 401, 403, 404, 413, 422])
      expect(classifyError(http(status)).action, `${status}`).toBe("return");
    expect(classifyError(http(400, "content policy violation", "content_policy_violation")).action).toBe(
      "return",
    );
    expect(classifyError(new GatewayError(503, ERROR_CODE.providerNotConfigured, "no key")).action).toBe(
      "return",
    );
  });

  it("keeps the upstream's retry-after", () => {
    expect(classifyError(http(429, "slow down", undefined, "3")).retryAfterMs).toBe(3000);
    expect(classifyError(http(503)).retryAfterMs).toBeUndefined();
  });
});
