import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { compareWithBaseline, tolerancePct } from "../../src/harness/runner/baseline.js";
import { evaluateSpecs } from "../../src/harness/runner/gates.js";
import { scenarioMetrics } from "../../src/harness/runner/scenario-metrics.js";
import { exampleReport } from "../../src/harness/report/example.js";
import type { ScenarioReport } from "../../src/harness/report/types.js";
import { DEFAULT_BASELINE_POLICY } from "../../src/harness/scenarios/types.js";

const base = exampleReport();
const opts = { policy: DEFAULT_BASELINE_POLICY, fixedTolerancePct: null, source: "b" };

function withLatency(s: ScenarioReport, f: number): ScenarioReport {
  const m = (x: number | null) => (x === null ? null : x * f);
  const l = s.latencyMs;
  return { ...s, latencyMs: { ...l, min: m(l.min), max: m(l.max), mean: m(l.mean), stddev: m(l.stddev), p50: m(l.p50), p90: m(l.p90), p95: m(l.p95), p99: m(l.p99), p999: m(l.p999) } };
}

describe("baseline tolerance", () => {
  test("is never below the minimum", () => {
    fc.assert(fc.property(fc.option(fc.double({ min: 0, max: 1e4, noNaN: true }), { nil: null }), (noise) => {
      expect(tolerancePct(noise, DEFAULT_BASELINE_POLICY, null)).toBeGreaterThanOrEqual(DEFAULT_BASELINE_POLICY.minTolerancePct);
    }));
  });

  test("a latency change inside the tolerance never fails a latency gate, and one beyond it always does", () => {
    fc.assert(fc.property(fc.double({ min: 0.5, max: 2, noNaN: true }), (factor) => {
      const current = withLatency(base.scenarios[1]!, factor);
      const out = compareWithBaseline([current], base, { ...opts, fixedTolerancePct: 10 });
      const results = evaluateSpecs(out.gates.filter((g) => g.id.endsWith("baseline-p50")), () => ({ ...scenarioMetrics(current), ...out.metrics.get("embeddings") }));
      const change = (factor - 1) * 100;
      if (change <= 9.99) expect(results[0]!.verdict).toBe("pass");
      if (change >= 10.01) expect(results[0]!.verdict).toBe("fail");
    }));
  });
});
