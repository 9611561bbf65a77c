import { describe, expect, it } from "vitest";
import { ibanChecksumValid } from "../../../src/guardrail/detectors/iban.ts";
import { luhnValid } from "../../../src/guardrail/detectors/payment-card.ts";
import { scanText } from "../../../src/guardrail/index.ts";
import {
  b64url,
  config,
  everything,
  filler,
  makeIban,
  makeJwt,
  makePem,
  SECRET_TEMPLATES,
  withLuhn,
} from "./support.ts";

const ALL = config(everything("flag"));
const SK = ["s", "k-"].join("");

/** Spans `rule` finds in `text` (whole-text scan, every rule on). */
function spans(rule: string, text: string): { start: number; end: number }[] {
  return scanText(ALL, text, "t")
    .verdicts.filter((v) => v.rule === rule)
    .map(({ start, end }) => ({ start, end }));
}

/** Expects `rule` to find exactly `secret` inside a sentence around it. */
function expectFound(rule: string, secret: string): void {
  const before = "value: ";
  expect(spans(rule, `${before}${secret} (end)`), `${rule} should match ${secret}`).toEqual([
    { start: before.length, end: before.length + secret.length },
  ]);
}

function expectNotFound(rule: string, text: string): void {
  expect(spans(rule, `value: ${text} (end)`), `${rule} should not match ${text}`).toEqual([]);
}

const TABLE: Record<string, { yes: string[]; no: string[] }> = {
  openai_key: {
    yes: [
      `${SK}${filler(48, 1)}`,
      `${SK}proj-${filler(156, 2, "abcXYZ019_-")}`,
      `${SK}svcacct-${filler(60, 3)}`,
      `${SK}admin-${filler(40, 4)}`,
    ],
    no: [`${SK}learn`, `${SK}${filler(19, 5)}`, `di${SK}${filler(30, 6)}`, `${SK}ant-api03-${filler(40, 7)}`],
  },
  anthropic_key: {
    yes: [`${SK}ant-api03-${filler(93, 8, "abcXYZ019_-")}AA`, `${SK}ant-${filler(20, 9)}`],
    no: [`${SK}ant-short`, `x${SK}ant-${filler(40, 10)}`],
  },
  aws_access_key_id: {
    yes: ["AKIAIOSFODNN7EXAMPLE", `ASIA${filler(16, 11, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")}`],
    no: ["AKIAIOSFODNN7EXAMPL", "AKIAIOSFODNN7EXAMPLEX", "xAKIAIOSFODNN7EXAMPLE", "akiaiosfodnn7example"],
  },
  github_token: {
    yes: [
      `gh${"p"}_${filler(36, 12)}`,
      `gh${"s"}_${filler(36, 13)}`,
      `github_${"pat"}_${filler(22, 14)}_${filler(59, 15)}`,
    ],
    no: [`gh${"p"}_${filler(35, 16)}`, `gh${"x"}_${filler(36, 17)}`, `github_${"pat"}_${filler(10, 18)}`],
  },
  slack_token: {
    yes: [`xo${"xb"}-123456789012-1234567890123-${filler(24, 19)}`, `xo${"xp"}-${filler(40, 20)}`],
    no: [`xo${"xo"}-${filler(20, 21)}`, `xo${"xb"}-123`],
  },
  google_api_key: {
    yes: [`AI${"za"}${filler(35, 22, "abcXYZ019_-")}`],
    no: [`AI${"za"}${filler(34, 23)}`, `AI${"za"}${filler(36, 24)}`],
  },
  jwt: {
    yes: [
      makeJwt('{"sub":"1234567890","name":"A"}'),
      `${b64url('{"alg":"RS256","kid":"k1"}')}.${b64url("{}")}.`,
    ],
    no: [
      `${b64url('{"typ":"JWT"}')}.${b64url('{"sub":"1"}')}.${filler(20, 25)}`,
      b64url('{"alg":"HS256"}'),
      `eyJ${filler(30, 26)}.${filler(30, 27)}`,
    ],
  },
  private_key: {
    yes: [makePem(3), makePem(1, 2, "OPENSSH PRIVATE KEY"), makePem(2, 3, "PRIVATE KEY"), makePem(40, 4)],
    no: ["-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----", "-----BEGIN PUBLIC KEY-----\nMIIB"],
  },
  payment_card: {
    yes: [
      "4111111111111111",
      "4111 1111 1111 1111",
      "4111-1111-1111-1111",
      "5555555555554444",
      "378282246310005",
      "30569309025904",
      "4222222222222",
      withLuhn("601100000000000000"),
    ],
    no: [
      "4111111111111112",
      "4111 1111 1111 1112",
      "0000 0000 0000 0000",
      "1234567890123",
      "411111111111",
      "4111  1111 1111 1111",
      "41111111111111111111",
    ],
  },
  iban: {
    yes: [
      "GB82WEST12345698765432",
      "GB82 WEST 1234 5698 7654 32",
      "DE89370400440532013000",
      "FR1420041010050500013M02606",
      "NL91ABNA0417164300",
      "NO9386011117947",
      makeIban("CH", "00762011623852957"),
    ],
    no: [
      "GB82WEST12345698765433",
      "GB82WEST1234569876543",
      "GB82WEST123456987654321",
      "XX82WEST12345698765432",
      "GB82 WE ST12 3456 9876 5432",
    ],
  },
  email: {
    yes: ["john.doe@example.com", "a+tag@mail.example.co.uk", "x_y%z@sub-domain.example.org"],
    no: ["john@localhost", "@example.com", "john@example", "john@-example.com"],
  },
  phone: {
    yes: ["+1 (555) 123-4567", "+44 20 7946 0958", "555-123-4567", "(555) 123-4567", "+33 1 23 45 67 89"],
    no: ["5551234567", "2024-2025", "12-34", "+1 23"],
  },
  us_ssn: {
    yes: ["123-45-6789", "123 45 6789"],
    no: [
      "000-12-3456",
      "666-12-3456",
      "900-12-3456",
      "123-00-4567",
      "123-45-0000",
      "123456789",
      "123-45 6789",
    ],
  },
};

describe("built-in detectors", () => {
  for (const [rule, { yes, no }] of Object.entries(TABLE)) {
    it(`${rule}: finds true positives exactly and ignores near misses`, () => {
      for (const secret of yes) expectFound(rule, secret);
      for (const text of no) expectNotFound(rule, text);
    });
  }

  it("every template used by the property tests is found by its rule", () => {
    for (const [rule, template] of Object.entries(SECRET_TEMPLATES)) {
      for (let seed = 0; seed < 20; seed++) expectFound(rule, template(seed));
    }
  });

  it("rejects random digit runs that fail Luhn, and accepts them once completed", () => {
    for (let seed = 1; seed <= 200; seed++) {
      const digits = filler(15, seed, "0123456789");
      const valid = withLuhn(digits);
      const invalid = `${digits}${(Number(valid.at(-1)) + 1) % 10}`;
      expectNotFound("payment_card", invalid);
      if (!/^(\d)\1*$/.test(valid)) expectFound("payment_card", valid);
    }
  });

  it("finds a card followed by more digit groups (an expiry date)", () => {
    expect(spans("payment_card", "card 4111 1111 1111 1111 05 27")).toEqual([{ start: 5, end: 24 }]);
  });

  it("covers a running token to its end, however long", () => {
    const long = `${SK}${filler(5000, 30)}`;
    expectFound("openai_key", long);
    const pem = makePem(200, 7);
    expectFound("private_key", pem);
  });

  it("keeps the text after a PEM block out of the match", () => {
    const pem = makePem(2);
    expect(spans("private_key", `${pem}\nThat was the key.`)).toEqual([{ start: 0, end: pem.length }]);
  });
});

describe("validators", () => {
  it("Luhn accepts test card numbers and rejects a changed digit", () => {
    expect(luhnValid("4111111111111111")).toBe(true);
    expect(luhnValid("79927398713")).toBe(true);
    expect(luhnValid("79927398710")).toBe(false);
  });

  it("mod-97 accepts registry examples and rejects a changed digit", () => {
    expect(ibanChecksumValid("GB82WEST12345698765432")).toBe(true);
    expect(ibanChecksumValid("BE68539007547034")).toBe(true);
    expect(ibanChecksumValid("BE68539007547035")).toBe(false);
  });
});

describe("deny terms", () => {
  const deny = (terms: string[], wholeWord?: boolean) =>
    config({ builtins: {}, denyTerms: { terms, wholeWord, action: "redact" } });

  it("matches case-insensitively with Unicode case folding", () => {
    const cfg = deny(["Projet Été", "ΣΟΦΙΑ"]);
    expect(scanText(cfg, "le PROJET ÉTÉ et σοφια.", "t").redacted).toBe(
      "le [REDACTED:deny_terms] et [REDACTED:deny_terms].",
    );
  });

  it("matches the decomposed (NFD) spelling of a term", () => {
    const cfg = deny(["café"]);
    expect(scanText(cfg, "un cafe\u0301 noir", "t").redacted).toBe("un [REDACTED:deny_terms] noir");
  });

  it("honours whole words by default, and matches inside words when asked", () => {
    expect(scanText(deny(["falcon"]), "falconry and falcon_x and Falcon!", "t").redacted).toBe(
      "falconry and falcon_x and [REDACTED:deny_terms]!",
    );
    expect(scanText(deny(["falcon"], false), "falconry", "t").redacted).toBe("[REDACTED:deny_terms]ry");
  });

  it("treats letters beyond ASCII as word characters", () => {
    expect(scanText(deny(["öl"]), "Erdöl und öl", "t").redacted).toBe("Erdöl und [REDACTED:deny_terms]");
  });
});

describe("custom rules", () => {
  it("matches the pattern with its flags and masks it", () => {
    const cfg = config({
      builtins: {},
      custom: [
        { name: "ticket", pattern: "tkt-\\d{4}", flags: "i", maxLength: 8, action: "redact", mask: "<T>" },
      ],
    });
    expect(scanText(cfg, "see TKT-1234 and tkt-99", "t").redacted).toBe("see <T> and tkt-99");
  });

  it("cuts a match longer than the declared maxLength to that length", () => {
    const cfg = config({
      builtins: {},
      custom: [{ name: "run", pattern: "x+", maxLength: 3, action: "flag" }],
    });
    expect(scanText(cfg, "xxxxx", "t").verdicts.map((v) => [v.start, v.end])).toEqual([
      [0, 3],
      [3, 5],
    ]);
  });
});
