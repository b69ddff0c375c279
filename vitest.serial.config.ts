/**
 * The serial tier of `npm test`: the tests that judge a real soak's verdict on the bundled server
 * (green, red, resumed, the gate's short soak). Their latency gate measures the machine as much as the
 * server, so they run one at a time after the main suite, never beside another CPU-heavy test file:
 * side by side they are (correctly) judged INVALID for the other processes' CPU.
 */
import { defineConfig } from "vitest/config";

export const SERIAL_TESTS = [
  "tests/integration/soak-verdict-green.test.ts",
  "tests/integration/soak-verdict-red.test.ts",
  "tests/integration/soak-resume.test.ts",
  "tests/integration/soak-short-gate.test.ts",
];

export default defineConfig({
  test: {
    include: SERIAL_TESTS,
    environment: "node",
    testTimeout: 30_000,
    hookTimeout: 240_000,
    pool: "forks",
    maxWorkers: 1,
    fileParallelism: false,
    reporters: process.env.CI ? ["default", "junit"] : ["default"],
    outputFile: { junit: "reports/tests/junit-serial.xml" },
  },
});
