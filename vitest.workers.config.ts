import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { outbound } from "./test/workers/support/outbound.ts";

// Tests that need the Workers runtime: they run inside workerd with the real wrangler.toml bindings.
export default defineConfig({
  plugins: [
    cloudflareTest({
      // [env.test]: the deployed bindings without rate limits (see wrangler.toml).
      wrangler: { configPath: "./wrangler.toml", environment: "test" },
      miniflare: {
        bindings: {
          OPENAI_BASE_URL: "https://upstream.test/openai/v1",
          ANTHROPIC_BASE_URL: "https://upstream.test/anthropic",
          GEMINI_BASE_URL: "https://upstream.test/gemini",
          OPENAI_API_KEY: "sk-test-openai-key-0123456789",
          ANTHROPIC_API_KEY: "sk-ant-test-anthropic-key-0123456789",
          GEMINI_API_KEY: "AIzaTestGeminiKey0123456789",
          PROVIDERS: JSON.stringify([
            {
              name: "groq",
              baseUrl: "https://upstream.test/groq/v1",
              format: "openai",
              keySecret: "GROQ_API_KEY",
            },
            { name: "local", baseUrl: "https://upstream.test/local/v1", format: "openai" },
          ]),
          // Most suites test other things than auth: anonymous callers may use every model here.
          ALLOW_ANONYMOUS: "true",
          ANONYMOUS_MODELS: "*",
          // The open-stream limit is tested end to end; here streams of many tests share one principal.
          MAX_OPEN_STREAMS: "0",
          DEMO_FIRST_TOKEN_MS: "0",
          DEMO_TOKEN_INTERVAL_MS: "0",
          MAX_BODY_BYTES: "4096",
          // Short retention so a test can see the alarm delete a finished stream.
          STREAM_TTL_SECONDS: "1",
          // A deny term that blocks, so a test can end a stream as `blocked`.
          GUARDRAIL_RULES: JSON.stringify({ denyTerms: { terms: ["forbidden-word"], action: "block" } }),
        },
        outboundService: outbound,
      },
    }),
  ],
  test: {
    include: ["test/workers/**/*.test.ts"],
  },
});
