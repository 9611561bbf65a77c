import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { outboundNode } from "./test/workers/support/outbound.ts";

// Tests that need the Workers runtime: they run inside workerd with the real wrangler.toml bindings.
export default defineConfig({
  plugins: [
    cloudflareTest({
      // The deployed configuration (top level: vars, Durable Objects, Analytics Engine, rate limits),
      // with the test settings below on top.
      wrangler: { configPath: "./wrangler.toml" },
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
          // One attempt per request: these suites test what an upstream failure looks like to the client;
          // retries and fallbacks are tested end to end (test/e2e/fallback.test.ts).
          RETRY_ATTEMPTS: "1",
          // So are the rate limits (test/e2e/security.test.ts); a suite makes hundreds of requests a
          // minute. "0": no limit, and the rate-limit bindings are never called.
          LOCAL_RATE_LIMIT: "0",
          DEMO_FIRST_TOKEN_MS: "0",
          DEMO_TOKEN_INTERVAL_MS: "0",
          MAX_BODY_BYTES: "4096",
          // Short retention so a test can see the alarm delete a finished stream.
          STREAM_TTL_SECONDS: "1",
          // Two hosts: any three streams put two on one object, so tests see hosts shared by streams.
          STREAM_HOSTS: "2",
          // A deny term that blocks, so a test can end a stream as `blocked`.
          GUARDRAIL_RULES: JSON.stringify({ denyTerms: { terms: ["forbidden-word"], action: "block" } }),
        },
        // Every upstream fetch of the worker is answered in Node by the scripted upstream.
        outboundService: { node: outboundNode },
      },
    }),
  ],
  test: {
    include: ["test/workers/**/*.test.ts"],
  },
});
