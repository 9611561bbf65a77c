import { defineConfig } from "vitest/config";

// End to end: the real bundled worker on workerd (Miniflare) against loopback mock upstreams.
export default defineConfig({
  test: {
    include: ["test/e2e/**/*.test.ts"],
    globalSetup: ["test/e2e/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
