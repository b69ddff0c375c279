/**
 * The container tier (npm run test:containers): the server image built from this checkout, run under
 * testcontainers on a local Docker engine (bash scripts/docker-engine.sh start). One file at a time: the
 * soak measures memory and must not share the CPU with a flood.
 */
import { defineConfig } from "vitest/config";

// Set before any worker starts so the workers inherit them. Ryuk (the reaper) cannot be pulled here, and
// this machine looks like a container to testcontainers, which would otherwise pull a helper image.
process.env.TESTCONTAINERS_RYUK_DISABLED ??= "true";
process.env.TESTCONTAINERS_HOST_OVERRIDE ??= "localhost";

export default defineConfig({
  test: {
    include: ["tests/containers/**/*.test.ts"],
    environment: "node",
    globalSetup: ["tests/containers/global-setup.ts"],
    // The image build happens in global setup; container starts and floods in hooks and tests.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: "forks",
    maxWorkers: 1,
    fileParallelism: false,
    reporters: process.env.CI ? ["default", "junit"] : ["default"],
    outputFile: { junit: "reports/tests/containers-junit.xml" },
  },
});
