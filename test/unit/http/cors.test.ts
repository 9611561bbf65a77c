import { describe, expect, it } from "vitest";
import { parseCorsPolicy, withCors } from "../../../src/http/cors.ts";

const PAGE = "https://app.example";
const request = new Request("https://gateway.example/v1/chat/completions", { headers: { origin: PAGE } });
const policy = parseCorsPolicy(PAGE);

describe("withCors", () => {
  it("sets the headers on a response the gateway built, keeping its body and other headers", async () => {
    const built = new Response("answer", { status: 201, headers: { vary: "Accept", "x-stream-id": "s1" } });
    const res = withCors(request, built, policy);
    expect(res.status).toBe(201);
    expect(res.headers.get("access-control-allow-origin")).toBe(PAGE);
    expect(res.headers.get("access-control-expose-headers")).toContain("x-stream-id");
    expect(res.headers.get("vary")).toBe("Accept, Origin");
    expect(res.headers.get("x-stream-id")).toBe("s1");
    expect(await res.text()).toBe("answer");
  });

  it("re-wraps a response whose headers are immutable, so it still gets them", async () => {
    // The Fetch standard makes Response.redirect's headers immutable, like those of a fetch() response.
    const frozen = Response.redirect("https://gateway.example/elsewhere", 307);
    expect(() => frozen.headers.set("x-probe", "1")).toThrow(TypeError);
    const res = withCors(request, frozen, policy);
    expect(res).not.toBe(frozen);
    expect(res.status).toBe(307);
    expect(res.headers.get("location")).toBe("https://gateway.example/elsewhere");
    expect(res.headers.get("access-control-allow-origin")).toBe(PAGE);
    expect(res.headers.get("vary")).toBe("Origin");
    expect(frozen.headers.get("vary")).toBeNull();
  });

  it("gives an origin it does not allow only Vary: Origin", () => {
    const other = new Request(request.url, { headers: { origin: "https://other.example" } });
    const res = withCors(other, new Response("x"), policy);
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
    expect(res.headers.get("access-control-expose-headers")).toBeNull();
    expect(res.headers.get("vary")).toBe("Origin");
  });
});

describe("parseCorsPolicy", () => {
  it("reads each value it is given, not only the first (the parse is kept per value)", () => {
    expect(parseCorsPolicy("https://a.example, https://b.example/").origins).toEqual(
      new Set(["https://a.example", "https://b.example"]),
    );
    expect(parseCorsPolicy("*").any).toBe(true);
    expect(parseCorsPolicy("").any).toBe(false);
    expect(parseCorsPolicy(undefined).origins.size).toBe(0);
    expect(parseCorsPolicy("https://c.example").origins).toEqual(new Set(["https://c.example"]));
  });
});
