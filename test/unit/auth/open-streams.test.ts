import { describe, expect, it } from "vitest";
import { OpenStreamLeases, tooManyOpenStreams } from "../../../src/quota/open-streams.ts";

describe("OpenStreamLeases", () => {
  it("grants slots up to the limit and refuses the next, reporting how many are open", () => {
    const leases = new OpenStreamLeases(2, 60_000);
    expect(leases.acquire("a", 0)).toEqual({ ok: true });
    expect(leases.acquire("b", 0)).toEqual({ ok: true });
    expect(leases.acquire("c", 0)).toEqual({ ok: false, open: 2 });
    expect(leases.open(0)).toBe(2);
  });

  it("is idempotent for a stream that already holds a slot", () => {
    const leases = new OpenStreamLeases(1, 60_000);
    expect(leases.acquire("a", 0)).toEqual({ ok: true });
    expect(leases.acquire("a", 10)).toEqual({ ok: true });
    expect(leases.open(10)).toBe(1);
  });

  it("frees a slot when its stream ends", () => {
    const leases = new OpenStreamLeases(1, 60_000);
    leases.acquire("a", 0);
    leases.release("a", 1);
    expect(leases.acquire("b", 1)).toEqual({ ok: true });
  });

  it("grants a stream whose release came before its acquire without taking a slot, once", () => {
    const leases = new OpenStreamLeases(1, 60_000);
    leases.release("early", 0);
    expect(leases.acquire("early", 5)).toEqual({ ok: true });
    expect(leases.open(5)).toBe(0);
    // The slot is still free for another stream, and the remembered release is used up.
    expect(leases.acquire("b", 6)).toEqual({ ok: true });
    expect(leases.acquire("early", 7)).toEqual({ ok: false, open: 1 });
  });

  it("forgets a release without an acquire after a lease's lifetime", () => {
    const leases = new OpenStreamLeases(1, 60_000);
    leases.release("gone", 0);
    leases.acquire("b", 1);
    leases.release("b", 2);
    expect(leases.acquire("gone", 60_000)).toEqual({ ok: true });
    expect(leases.open(60_000)).toBe(1);
  });

  it("takes the limit an acquire names over the constructor's", () => {
    const leases = new OpenStreamLeases(0, 60_000);
    expect(leases.acquire("a", 0, 1)).toEqual({ ok: true });
    expect(leases.acquire("b", 0, 1)).toEqual({ ok: false, open: 1 });
    expect(leases.acquire("b", 0, 2)).toEqual({ ok: true });
  });

  it("expires a lease that was not renewed, so a lost stream cannot hold a slot forever", () => {
    const leases = new OpenStreamLeases(1, 30_000);
    leases.acquire("a", 0);
    expect(leases.renew("a", 20_000)).toBe(true);
    expect(leases.acquire("b", 40_000)).toEqual({ ok: false, open: 1 });
    expect(leases.nextExpiry()).toBe(50_000);
    expect(leases.acquire("b", 50_000)).toEqual({ ok: true });
    expect(leases.renew("a", 50_000)).toBe(false);
    expect(leases.open(50_000)).toBe(1);
  });

  it("has a 429 with retry-after for a caller at the limit", () => {
    const err = tooManyOpenStreams(4);
    expect(err).toMatchObject({ status: 429, code: "rate_limited", headers: { "retry-after": "10" } });
    expect(err.message).toMatch(/limit 4/);
  });
});
