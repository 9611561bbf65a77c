import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { base64UrlEncode, utf8 } from "../../../src/auth/bytes.ts";
import { presentedCredential } from "../../../src/auth/credentials.ts";
import { verifyJwt } from "../../../src/auth/jwt.ts";
import { authenticate } from "../../../src/auth/principal.ts";
import { verifyResumeToken } from "../../../src/auth/resume-token.ts";
import { GatewayError } from "../../../src/errors.ts";

const SECRET = "fuzz-secret-0123456789abcdefghijklmnop";
const KEYS = JSON.stringify([{ name: "k", key: "gw_fuzz-key-0123456789abcdef" }]);

const b64json = fc.jsonValue({ maxDepth: 2 }).map((v) => base64UrlEncode(utf8(JSON.stringify(v) ?? "")));
const b64bytes = fc.uint8Array({ maxLength: 40 }).map(base64UrlEncode);
/** Three-part strings whose parts are base64url JSON or bytes: they get past the shape check. */
const jwtLike = fc
  .tuple(
    fc.oneof(b64json, fc.constant(base64UrlEncode(utf8('{"alg":"HS256"}'))), b64bytes),
    fc.oneof(b64json, b64bytes),
    fc.oneof(b64bytes, fc.constant("")),
  )
  .map((parts) => parts.join("."));
const anyToken = fc.oneof(fc.string({ unit: "binary", maxLength: 300 }), jwtLike);

describe("auth verifiers under fuzzing", () => {
  it("verifyJwt never throws and refuses every forged string with a tagged reason", async () => {
    await fc.assert(
      fc.asyncProperty(anyToken, async (token) => {
        const result = await verifyJwt(token, SECRET);
        expect(result.ok).toBe(false);
        if (!result.ok) expect(result.message.length).toBeGreaterThan(0);
      }),
      { numRuns: 2000 },
    );
  });

  it("verifyResumeToken never throws and refuses every forged string", async () => {
    await fc.assert(
      fc.asyncProperty(anyToken, fc.string({ maxLength: 30 }), async (token, streamId) => {
        expect((await verifyResumeToken(token, streamId, SECRET)).ok).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });

  it("authenticate answers any credential header with a 401 GatewayError or a principal, nothing else", async () => {
    const printable = fc.string({
      unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
      maxLength: 100,
    });
    const header = fc.constantFrom("authorization", "x-api-key", "x-goog-api-key");
    const value = fc.oneof(
      printable,
      jwtLike,
      jwtLike.map((t) => `Bearer ${t}`),
      printable.map((t) => `Bearer ${t}`),
    );
    await fc.assert(
      fc.asyncProperty(fc.dictionary(header, value, { maxKeys: 3 }), async (headers) => {
        const request = new Request("https://gw.test/v1/chat/completions", { headers });
        try {
          presentedCredential(request.headers);
          const p = await authenticate(request, { GATEWAY_KEYS: KEYS, GATEWAY_JWT_SECRET: SECRET });
          expect(p.kind).toBe("key");
        } catch (err) {
          expect(err).toBeInstanceOf(GatewayError);
          expect((err as GatewayError).status).toBe(401);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
