import { describe, expect, test } from "vitest";
import { outcomeLines } from "../../src/cli/print-outcome.js";
import { exampleReport } from "../../src/harness/report/index.js";
import type { RunOutcome } from "../../src/harness/runner/run-gauntlet.js";

function outcome(over: Partial<RunOutcome["report"]> = {}): RunOutcome {
  const report = { ...exampleReport(), ...over };
  return {
    report,
    written: { dir: "/repo/reports/2025-01-15T10-00-00Z-gate", files: { json: "", markdown: "", junit: "", html: "" }, latest: "/repo/reports/latest", problems: [], warnings: [] },
    exitCode: 1,
  };
}

describe("outcomeLines", () => {
  test("prints one line per gate with its icon, expression and measured detail", () => {
    const lines = outcomeLines("gate", outcome(), "/repo");
    expect(lines).toContain("❌ chat-stream/success: success_rate >= 0.999 && errors == 0  →  0.997917 >= 0.999 ✗ && 12 == 0 ✗");
    expect(lines).toContain("✅ chat-stream/p95: p95 < 2.5 * p50  →  860 < 1075 ✓");
    expect(lines).toContain("⚠️ server-queue: queue.p95 < 50  →  missing metric: queue.p95");
    expect(lines.at(-2)).toBe("gauntlet gate: ❌ FAIL: 6 gates, 4 passed, 1 failed, 1 unavailable");
    expect(lines.at(-1)).toBe("reports: reports/2025-01-15T10-00-00Z-gate/ (report.json, report.md, junit.xml, report.html); latest -> reports/latest");
  });

  test("lists why a run is invalid and says it is neither green nor red", () => {
    const lines = outcomeLines("stress", outcome({ verdict: "invalid", invalidReasons: ["s: the harness lagged"] }), "/repo");
    expect(lines).toContain("⚠️ invalid: s: the harness lagged");
    expect(lines.at(-2)).toMatch(/^gauntlet stress: ⚠️ INVALID \(the measurement cannot be trusted; neither green nor red\)/);
  });
});
