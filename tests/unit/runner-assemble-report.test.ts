import { describe, expect, test } from "vitest";
import { parseGate } from "../../src/harness/gates/index.js";
import { validateReport } from "../../src/harness/report/index.js";
import type { ScenarioReport } from "../../src/harness/report/types.js";
import { assembleReport } from "../../src/harness/runner/assemble-report.js";
import type { StageResult } from "../../src/harness/runner/stage.js";
import { DEFAULT_BASELINE_POLICY } from "../../src/harness/scenarios/types.js";
import { LatencyHistogram } from "../../src/harness/stats/histogram.js";

function scenario(name: string, latencies: number[]): ScenarioReport {
  const h = new LatencyHistogram();
  for (const v of latencies) h.record(v);
  return { name, description: "d", requests: { total: latencies.length, ok: latencies.length, failed: 0, wrongAnswers: 0 }, successRate: 1, throughputRps: 10, latencyMs: h.summary(), errorsByKind: {}, notes: [] };
}

function stage(gates: string[], extra: Partial<StageResult> = {}): StageResult {
  return {
    scenarios: [{ report: scenario("s1", [10, 11, 12, 13]), metrics: { memory_growth_pct: 2 }, invalid: [], series: [], markers: [], memory: [] }],
    gates: gates.map((g, k) => ({ id: `s1/g${k}`, scenario: "s1", gate: parseGate(g) })),
    runMetrics: { server_start_failures: 0 }, invalid: [], memory: [{ tMs: 5, rssBytes: 100 }], latency: [{ tMs: 1000, p50: 11, p95: 13 }],
    markers: [{ tMs: 0, label: "s1 start" }], model: null, config: {}, ...extra,
  };
}

const environment = { node: "v20", platform: "linux", arch: "x64", cpuModel: "cpu", cores: 2, totalMemoryBytes: 1, os: "Linux", gitCommit: null, model: null, config: {} };
const base = { kind: "stress" as const, name: "run", toolVersion: "0.1.0", startedAt: new Date(0), finishedAt: new Date(1000), durationMs: 1000, environment, invalid: [], baseline: null };

describe("assembleReport", () => {
  test("passes when every gate passes, with valid report.json content", () => {
    const r = assembleReport({ ...base, stages: [stage(["p95 < 2 * p50", "memory_growth_pct < 20"])] });
    expect(r.verdict).toBe("pass");
    expect(r.gates.map((g) => g.detail)).toEqual(["13 < 22 ✓", "2 < 20 ✓"]);
    expect(validateReport(r)).toEqual([]);
  });

  test("fails on a red or unavailable gate", () => {
    expect(assembleReport({ ...base, stages: [stage(["p50 < 0"])] }).verdict).toBe("fail");
    expect(assembleReport({ ...base, stages: [stage(["ttft.p95 < 5"])] }).verdict).toBe("fail");
  });

  test("is invalid, whatever the gates say, when the measurement cannot be trusted", () => {
    const r = assembleReport({ ...base, stages: [stage(["p50 > 0"], { invalid: ["s1: the harness lagged"] })] });
    expect(r.verdict).toBe("invalid");
    expect(r.invalidReasons).toEqual(["s1: the harness lagged"]);
    expect(validateReport(r)).toEqual([]);
  });

  test("makes a scenario that did not run red rather than green", () => {
    const st = stage(["p50 > 0"]);
    st.scenarios[0]!.report = { ...scenario("s1", []), notes: ["not run"] };
    const r = assembleReport({ ...base, stages: [st] });
    expect(r.gates[0]?.verdict).toBe("unavailable");
    expect(r.verdict).toBe("fail");
    expect(validateReport(r)).toEqual([]);
  });

  test("adds baseline comparisons and their gates", () => {
    const previous = assembleReport({ ...base, stages: [stage([])] });
    const slower = stage([]);
    slower.scenarios[0]!.report = scenario("s1", [20, 22, 24, 26]);
    const r = assembleReport({ ...base, stages: [slower], baseline: { report: previous, policy: DEFAULT_BASELINE_POLICY, fixedTolerancePct: null, source: "prev.json" } });
    expect(r.baseline?.comparisons.find((c) => c.metric === "p50")).toMatchObject({ baseline: 11, current: 22, verdict: "worse" });
    expect(r.gates.find((g) => g.id === "s1/baseline-p50")?.verdict).toBe("fail");
    expect(validateReport(r)).toEqual([]);
  });
});
