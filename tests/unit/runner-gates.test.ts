import { describe, expect, test } from "vitest";
import { parseGate } from "../../src/harness/gates/index.js";
import { evaluateSpecs, gatesForScenario } from "../../src/harness/runner/gates.js";
import { scenarioMetrics } from "../../src/harness/runner/scenario-metrics.js";
import { DEFAULT_BASELINE_POLICY, DEFAULT_VALIDITY } from "../../src/harness/scenarios/types.js";
import type { ThresholdsDef } from "../../src/harness/scenarios/types.js";
import { LatencyHistogram } from "../../src/harness/stats/histogram.js";

const thresholds: ThresholdsDef = {
  defaults: { spread: "p95 < 2 * p50", success: "success_rate >= 0.90" },
  scenarios: { burst: { spread: null, correct: "wrong_answers == 0" }, sized: { spread: "tpot.p95 < 2 * tpot.p50" } },
  validity: DEFAULT_VALIDITY,
  baseline: DEFAULT_BASELINE_POLICY,
};

describe("gatesForScenario", () => {
  test("applies the defaults to a scenario without a table", () => {
    expect(gatesForScenario("plain", thresholds).map((g) => [g.id, g.gate.source])).toEqual([
      ["plain/spread", "p95 < 2 * p50"], ["plain/success", "success_rate >= 0.90"],
    ]);
  });

  test("lets a scenario remove, replace and add gates, then appends --gate expressions", () => {
    expect(gatesForScenario("burst", thresholds, [parseGate("p50 < 0")]).map((g) => g.id)).toEqual(["burst/success", "burst/correct", "burst/cli-1"]);
    expect(gatesForScenario("sized", thresholds).find((g) => g.id === "sized/spread")?.gate.source).toBe("tpot.p95 < 2 * tpot.p50");
  });
});

describe("evaluateSpecs", () => {
  test("gives each gate its verdict with the measured values", () => {
    const h = new LatencyHistogram();
    for (const v of [10, 11, 12, 13, 40]) h.record(v);
    const report = {
      name: "plain", description: "", requests: { total: 5, ok: 5, failed: 0, wrongAnswers: 0 }, successRate: 1, throughputRps: 2,
      latencyMs: h.summary(), errorsByKind: {}, notes: [],
    };
    const results = evaluateSpecs(gatesForScenario("plain", thresholds, [parseGate("p50 < 0")]), () => scenarioMetrics(report));
    expect(results.map((r) => [r.id, r.verdict])).toEqual([["plain/spread", "fail"], ["plain/success", "pass"], ["plain/cli-1", "fail"]]);
    expect(results[0]).toMatchObject({ scenario: "plain", expression: "p95 < 2 * p50", values: { p95: 40, p50: 12 }, detail: "40 < 24 ✗" });
  });

  test("says unavailable, never pass, when a metric is missing", () => {
    const [r] = evaluateSpecs(gatesForScenario("sized", thresholds).slice(0, 1), () => ({}));
    expect(r?.verdict).toBe("unavailable");
  });
});
