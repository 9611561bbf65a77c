import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  base64UrlDecode,
  base64UrlEncode,
  constantTimeEqual,
  decodeUtf8,
  fromHex,
  toHex,
} from "../../../src/auth/bytes.ts";

describe("constantTimeEqual", () => {
  it("is true for equal byte strings, including empty ones", () => {
    expect(constantTimeEqual(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 3]))).toBe(true);
    expect(constantTimeEqual(new Uint8Array(), new Uint8Array())).toBe(true);
  });

  it("is false when any single byte differs, wherever it is", () => {
    const a = new Uint8Array(32).fill(7);
    for (let i = 0; i < a.length; i++) {
      const b = a.slice();
      b[i] = 8;
      expect(constantTimeEqual(a, b)).toBe(false);
    }
  });

  it("is false for different lengths", () => {
    expect(constantTimeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2, 0]))).toBe(false);
  });

  it("agrees with a plain comparison on random inputs", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ maxLength: 40 }), (a, b) => {
        const plain = a.length === b.length && a.every((x, i) => x === b[i]);
        expect(constantTimeEqual(a, b)).toBe(plain);
        expect(constantTimeEqual(a, a.slice())).toBe(true);
      }),
    );
  });
});

describe("base64url and hex", () => {
  it("round-trips any bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
        const text = base64UrlEncode(bytes);
        expect(text).toMatch(/^[A-Za-z0-9_-]*$/);
        expect(base64UrlDecode(text)).toEqual(bytes);
        expect(fromHex(toHex(bytes))).toEqual(bytes);
      }),
    );
  });

  it("refuses non-base64url text and impossible lengths instead of throwing", () => {
    expect(base64UrlDecode("ab+c")).toBeUndefined();
    expect(base64UrlDecode("abc=")).toBeUndefined();
    expect(base64UrlDecode("abcde")).toBeUndefined();
    expect(fromHex("abc")).toBeUndefined();
    expect(fromHex("zz")).toBeUndefined();
  });

  it("refuses invalid UTF-8", () => {
    expect(decodeUtf8(new Uint8Array([0xc3, 0x28]))).toBeUndefined();
    expect(decodeUtf8(new TextEncoder().encode("héllo"))).toBe("héllo");
  });
});
