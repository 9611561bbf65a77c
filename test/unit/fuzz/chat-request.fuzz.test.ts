import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { GatewayError } from "../../../src/errors.ts";
import { readJsonBody } from "../../../src/http/body.ts";
import { parseChatRequest } from "../../../src/upstream/openai-chat/request.ts";

/** Planted in keys and values: no error message may ever repeat it. */
const SECRET = "sk-PLANTED-fuzz-secret-7f3a9c";

const anyJson = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constant(SECRET),
  fc.constant({ [SECRET]: SECRET }),
);

/** Values shaped like message parts, so the fuzzer gets past the first checks into the deep ones. */
const part = fc.oneof(
  fc.record(
    { type: fc.constantFrom("text", "image_url", "audio", SECRET), text: anyJson, image_url: anyJson },
    { requiredKeys: [] },
  ),
  anyJson,
);
const message = fc.oneof(
  fc.record(
    {
      role: fc.constantFrom("system", "developer", "user", "assistant", "tool", "robot", SECRET),
      content: fc.oneof(fc.string(), fc.constant(null), fc.array(part, { maxLength: 3 }), anyJson),
      tool_calls: fc.oneof(
        fc.array(fc.record({ id: anyJson, function: anyJson }, { requiredKeys: [] })),
        anyJson,
      ),
      tool_call_id: anyJson,
    },
    { requiredKeys: [] },
  ),
  anyJson,
);

/** Bodies with the known fields (valid-ish or arbitrary) plus arbitrary extra keys. */
const body = fc
  .tuple(
    fc.record(
      {
        model: fc.oneof(fc.constantFrom("demo/story", "", SECRET, "x".repeat(300)), anyJson),
        messages: fc.oneof(fc.array(message, { maxLength: 4 }), anyJson),
        stream: anyJson,
        stream_options: fc.oneof(fc.record({ include_usage: anyJson }), anyJson),
        max_tokens: fc.oneof(fc.integer(), fc.double(), anyJson),
        temperature: fc.oneof(fc.double(), anyJson),
        top_p: fc.oneof(fc.double(), anyJson),
        n: anyJson,
        stop: anyJson,
        tools: fc.oneof(
          fc.array(
            fc.record({ type: fc.constantFrom("function", SECRET), function: anyJson }, { requiredKeys: [] }),
          ),
          anyJson,
        ),
        tool_choice: anyJson,
        response_format: fc.oneof(
          fc.record({
            type: fc.constantFrom("text", "json_object", "json_schema", SECRET),
            json_schema: anyJson,
          }),
          anyJson,
        ),
      },
      { requiredKeys: [] },
    ),
    fc.dictionary(fc.oneof(fc.string(), fc.constant(SECRET)), anyJson, { maxKeys: 3 }),
  )
  .map(([known, extra]) => ({ ...extra, ...known }));

function expectOnly400(run: () => unknown): void {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(GatewayError);
    const e = err as GatewayError;
    expect(e.status).toBe(400);
    expect(e.message).not.toContain(SECRET);
  }
}

describe("parseChatRequest under fuzzing", () => {
  it("either parses or throws a 400 GatewayError that never echoes a planted secret", () => {
    fc.assert(
      fc.property(body, (json) => {
        expectOnly400(() => parseChatRequest(json));
      }),
      { numRuns: 2000 },
    );
  });

  it("does the same for arbitrary JSON objects", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 4 })), (json) => {
        expectOnly400(() => parseChatRequest(json));
      }),
      { numRuns: 500 },
    );
  });

  it("answers any body text with a parse or a 400/413, never anything else", async () => {
    const text = fc.oneof(
      fc.string({ unit: "binary", maxLength: 200 }),
      fc.jsonValue().map((v) => JSON.stringify(v) ?? ""),
      body.map((v) => JSON.stringify(v)),
    );
    await fc.assert(
      fc.asyncProperty(text, async (t) => {
        const request = new Request("https://gw.test/v1/chat/completions", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: t,
        });
        try {
          const { json } = await readJsonBody(request, 4096);
          parseChatRequest(json);
        } catch (err) {
          expect(err).toBeInstanceOf(GatewayError);
          const e = err as GatewayError;
          expect([400, 413]).toContain(e.status);
          expect(e.message).not.toContain(SECRET);
        }
      }),
      { numRuns: 500 },
    );
  });
});
