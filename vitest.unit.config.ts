import { defineConfig } from "vitest/config";

// Pure units: no Workers runtime needed, run on Node.
export default defineConfig({
  test: {
    include: ["test/unit/**/*.test.ts"],
    setupFiles: ["test/unit/fc-setup.ts"],
  },
});
