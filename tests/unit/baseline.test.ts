import { describe, expect, test } from "vitest";
import { evaluateSpecs } from "../../src/harness/runner/gates.js";
import { compareWithBaseline, relativeNoisePct, tolerancePct } from "../../src/harness/runner/baseline.js";
import { scenarioMetrics } from "../../src/harness/runner/scenario-metrics.js";
import { exampleReport } from "../../src/harness/report/example.js";
import type { ScenarioReport } from "../../src/harness/report/types.js";
import { DEFAULT_BASELINE_POLICY } from "../../src/harness/scenarios/types.js";

const policy = DEFAULT_BASELINE_POLICY;
const opts = { policy, fixedTolerancePct: null, source: "base/report.json" };

function scaled(s: ScenarioReport, latencyFactor: number, throughputFactor = 1): ScenarioReport {
  const scale = (x: number | null) => (x === null ? null : x * latencyFactor);
  const sum = { ...s.latencyMs, min: scale(s.latencyMs.min), max: scale(s.latencyMs.max), mean: scale(s.latencyMs.mean), stddev: scale(s.latencyMs.stddev), p50: scale(s.latencyMs.p50), p90: scale(s.latencyMs.p90), p95: scale(s.latencyMs.p95), p99: scale(s.latencyMs.p99), p999: scale(s.latencyMs.p999) };
  return { ...s, latencyMs: sum, throughputRps: s.throughputRps === null ? null : s.throughputRps * throughputFactor };
}

describe("relativeNoisePct", () => {
  test("shrinks with more samples and grows with the spread", () => {
    const s = exampleReport().scenarios[1]!.latencyMs; // n = 3600
    const few = { ...s, count: 36 };
    expect(relativeNoisePct(few, "p95")!).toBeCloseTo(relativeNoisePct(s, "p95")! * 10, 6);
    expect(relativeNoisePct({ ...s, stddev: s.stddev! * 2 }, "p50")!).toBeCloseTo(relativeNoisePct(s, "p50")! * 2, 6);
  });

  test("is unknown without samples", () => {
    expect(relativeNoisePct({ count: 0, min: null, max: null, mean: null, stddev: null, p50: null, p90: null, p95: null, p99: null, p999: null }, "p50")).toBeNull();
  });
});

describe("tolerancePct", () => {
  test("is at least the minimum and k times the noise above it", () => {
    expect(tolerancePct(1, policy, null)).toBe(10);
    expect(tolerancePct(5, policy, null)).toBe(15);
    expect(tolerancePct(null, policy, null)).toBe(10);
    expect(tolerancePct(50, policy, 7)).toBe(7);
  });
});

describe("compareWithBaseline", () => {
  const base = exampleReport();

  test("a run equal to its baseline is the same on every metric and passes every baseline gate", () => {
    const out = compareWithBaseline(base.scenarios, base, opts);
    expect(out.info.comparisons.every((c) => c.verdict === "same")).toBe(true);
    const metricsFor = (name: string | null) => ({ ...scenarioMetrics(base.scenarios.find((s) => s.name === name)!), ...out.metrics.get(name!) });
    expect(evaluateSpecs(out.gates, metricsFor).every((g) => g.verdict === "pass")).toBe(true);
    expect(out.gates.map((g) => g.id)).toContain("chat-stream/baseline-ttft-p95");
  });

  test("a latency regression beyond the tolerance is worse and fails its gate with the values", () => {
    const current = [scaled(base.scenarios[1]!, 1.5, 1 / 1.5)];
    const out = compareWithBaseline(current, base, opts);
    const p95 = out.info.comparisons.find((c) => c.metric === "p95");
    expect(p95).toMatchObject({ scenario: "embeddings", verdict: "worse" });
    expect(p95!.changePct).toBeCloseTo(50, 3);
    const results = evaluateSpecs(out.gates, () => ({ ...scenarioMetrics(current[0]!), ...out.metrics.get("embeddings") }));
    const gate = results.find((r) => r.id === "embeddings/baseline-p95")!;
    expect(gate.verdict).toBe("fail");
    expect(gate.expression).toMatch(/^p95 <= baseline\.p95 \* 1\.1\d*$/);
    expect(results.find((r) => r.id === "embeddings/baseline-throughput-rps")?.verdict).toBe("fail");
  });

  test("an improvement is better, not a failure", () => {
    const out = compareWithBaseline([scaled(base.scenarios[1]!, 0.5, 2)], base, opts);
    expect(out.info.comparisons.find((c) => c.metric === "p50")?.verdict).toBe("better");
    expect(out.info.comparisons.find((c) => c.metric === "throughput_rps")?.verdict).toBe("better");
  });

  test("notes scenarios the baseline lacks and a different environment", () => {
    const env = { ...base.environment, cpuModel: "Other CPU" };
    const out = compareWithBaseline([{ ...base.scenarios[1]!, name: "new-one" }], base, opts, env);
    expect(out.notes).toEqual([
      "baseline: the baseline ran on a different CPU (AMD EPYC 7B13, 2 cores); differences may not be regressions",
      expect.stringMatching(/^baseline: one baseline run/),
      'baseline: no scenario "new-one" in the baseline; not compared',
    ]);
    expect(out.gates).toEqual([]);
  });
});

describe("compareWithBaseline over several stored runs (run-to-run noise)", () => {
  const runAt = (factor: number) => {
    const r = exampleReport();
    r.scenarios = r.scenarios.map((s) => scaled(s, factor));
    return r;
  };

  test("compares with the median run and derives the tolerance from the spread between runs", () => {
    // Five baseline runs whose p95 spreads by about 8% run to run: 3 x that noise is above the 10% floor.
    const runs = [1.0, 0.92, 1.08, 0.96, 1.04].map(runAt);
    const out = compareWithBaseline(runs[0]!.scenarios, runs[0]!, { ...opts, others: runs.slice(1) });
    const p95 = out.info.comparisons.find((c) => c.scenario === "embeddings" && c.metric === "p95")!;
    expect(p95.baseline).toBeCloseTo(exampleReport().scenarios[1]!.latencyMs.p95!, 6); // the median run
    const gate = out.gates.find((g) => g.id === "embeddings/baseline-p95")!;
    const factor = Number(/\* ([\d.]+)$/.exec(gate.gate.source)?.[1]);
    // sample stddev of [1, .92, 1.08, .96, 1.04] = 0.0632 -> 6.3% -> x3 = 19%
    expect(factor).toBeGreaterThan(1.17);
    expect(factor).toBeLessThan(1.21);
    expect(out.notes.join("\n")).toMatch(/5 baseline runs: tolerances from the spread between them/);
  });

  test("a run 15% slower passes against noisy baselines and fails against steady ones", () => {
    const current = [scaled(exampleReport().scenarios[1]!, 1.15)];
    const noisy = [1.0, 0.9, 1.1, 0.95, 1.05].map(runAt);
    const steady = [1.0, 0.995, 1.005, 0.99, 1.01].map(runAt);
    const verdict = (runs: ReturnType<typeof runAt>[]) =>
      compareWithBaseline(current, runs[0]!, { ...opts, others: runs.slice(1) }).info.comparisons.find((c) => c.metric === "p95")!.verdict;
    expect(verdict(noisy)).toBe("same");
    expect(verdict(steady)).toBe("worse");
  });

  test("one stored run says its tolerance rests on within-run sampling noise only", () => {
    const out = compareWithBaseline(exampleReport().scenarios, exampleReport(), opts);
    expect(out.notes.join("\n")).toMatch(/one baseline run: tolerances from its within-run sampling noise only/);
  });
});
