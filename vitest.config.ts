import { defineConfig } from "vitest/config";
import { SERIAL_TESTS } from "./vitest.serial.config.js";

export default defineConfig({
  test: {
    include: ["tests/{unit,integration,regression,property}/**/*.test.ts"],
    // Soak verdicts run alone afterwards (vitest.serial.config.ts): beside other heavy files they are INVALID.
    exclude: SERIAL_TESTS,
    environment: "node",
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Native inference is CPU-bound on a 2-core machine: keep parallel files few.
    pool: "forks",
    maxWorkers: 2,
    reporters: process.env.CI ? ["default", "junit"] : ["default"],
    outputFile: { junit: "reports/tests/junit.xml" },
  },
});
