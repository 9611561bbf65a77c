import { defineConfig } from "vitest/config";

// Real Chromium (Debian's /usr/bin/chromium) driven by playwright-core against the bundled worker.
export default defineConfig({
  test: {
    include: ["test/browser/**/*.test.ts"],
    globalSetup: ["test/e2e/global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
