import { scenarioMetrics } from "../runner/scenario-metrics.js";
import type { LatencySummary, RunReport } from "./types.js";

function summary(count: number, p50: number, spread = 1.6): LatencySummary {
  const r = (x: number): number => Math.round(x * 10) / 10;
  return {
    count,
    min: r(p50 * 0.55),
    max: r(p50 * spread * 2.4),
    mean: r(p50 * 1.08),
    stddev: r(p50 * 0.3),
    p50,
    p90: r(p50 * spread),
    p95: r(p50 * spread * 1.25),
    p99: r(p50 * spread * 1.6),
    p999: r(p50 * spread * 2.1),
  };
}

/**
 * A complete, realistic report with one red gate and one unavailable gate: used by tests,
 * documentation and `--demo` style previews of the writers.
 */
export function exampleReport(): RunReport {
  const memory = Array.from({ length: 61 }, (_, i) => ({
    tMs: i * 60_000,
    rssBytes: Math.round((1.5e9 + (i < 5 ? i * 9e7 : 4.5e8 + i * 1.2e6)) + Math.sin(i) * 8e6),
    heapUsedBytes: Math.round(6e7 + Math.cos(i) * 4e6),
    externalBytes: Math.round(1.2e9 + i * 1e6),
  }));
  const latency = Array.from({ length: 61 }, (_, i) => ({
    tMs: i * 60_000,
    p50: Math.round((i < 5 ? 600 - i * 40 : 420 + (i % 7) * 6) * 10) / 10,
    p95: Math.round((i < 5 ? 1500 - i * 90 : 900 + (i % 5) * 25) * 10) / 10,
  }));
  const report: RunReport = {
    schemaVersion: 1,
    tool: { name: "gauntlet", version: "0.1.0" },
    kind: "soak",
    name: "chat-soak-1h",
    startedAt: "2025-01-15T10:00:00.000Z",
    finishedAt: "2025-01-15T11:00:02.500Z",
    durationMs: 3_602_500,
    verdict: "fail",
    invalidReasons: [],
    environment: {
      node: "v20.20.2",
      platform: "linux",
      arch: "x64",
      cpuModel: "AMD EPYC 7B13",
      cores: 2,
      totalMemoryBytes: 8_335_400_960,
      os: "Linux 6.1.0",
      gitCommit: "3f2c1e9a7b5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b",
      model: { id: "qwen2.5-0.5b-instruct-q4_k_m", sha256: "a".repeat(64), sizeBytes: 397_808_192 },
      config: { concurrency: 4, warmupMs: 300_000, maxTokens: 64 },
    },
    scenarios: [
      {
        name: "chat-stream",
        description: "Streaming chat completions, 4 concurrent users",
        requests: { total: 7200, ok: 7185, failed: 12, wrongAnswers: 3 },
        successRate: 7185 / 7200,
        throughputRps: 2.0,
        latencyMs: summary(7200, 430),
        ttftMs: summary(7200, 85, 1.5),
        itlMs: summary(450_000, 5.2, 1.3),
        tpotMs: summary(7185, 5.6, 1.2),
        errorsByKind: { timeout: 9, "http-503": 3 },
        notes: ["Warm-up of 300 s excluded from percentiles."],
      },
      {
        name: "embeddings",
        description: "Batch embeddings, closed loop",
        requests: { total: 3600, ok: 3600, failed: 0, wrongAnswers: 0 },
        successRate: 1,
        throughputRps: 1.0,
        latencyMs: summary(3600, 38, 1.4),
        errorsByKind: {},
        notes: [],
      },
    ],
    gates: [
      { id: "chat-stream/p95", scenario: "chat-stream", expression: "p95 < 2.5 * p50", verdict: "pass",
        values: { p95: 860, p50: 430 }, detail: "860 < 1075 ✓" },
      { id: "chat-stream/ttft", scenario: "chat-stream", expression: "ttft.p95 <= 200", verdict: "pass",
        values: { "ttft.p95": 159.4 }, detail: "159.4 <= 200 ✓" },
      { id: "chat-stream/success", scenario: "chat-stream", expression: "success_rate >= 0.999 && errors == 0", verdict: "fail",
        values: { success_rate: 0.9979, errors: 12 }, detail: "0.997917 >= 0.999 ✗ && 12 == 0 ✗" },
      { id: "embeddings/p99", scenario: "embeddings", expression: "p99 < 3 * p50", verdict: "pass",
        values: { p99: 85.1, p50: 38 }, detail: "85.1 < 114 ✓" },
      { id: "memory", scenario: null, expression: "memory_growth_pct < 20", verdict: "pass",
        values: { memory_growth_pct: 4.1 }, detail: "4.1 < 20 ✓" },
      { id: "server-queue", scenario: null, expression: "queue.p95 < 50", verdict: "unavailable",
        values: { "queue.p95": null }, detail: "missing metric: queue.p95" },
    ],
    series: {
      memory,
      latency,
      markers: [{ tMs: 300_000, label: "warm-up end" }],
    },
    baseline: {
      name: "main@2025-01-14",
      source: "reports/2025-01-14T10-00-00Z-chat-soak-1h/report.json",
      startedAt: "2025-01-14T10:00:00.000Z",
      comparisons: [
        { scenario: "chat-stream", metric: "latencyMs.p95", baseline: 820, current: 860, changePct: 4.878, verdict: "same", pValue: 0.21 },
        { scenario: "chat-stream", metric: "ttftMs.p95", baseline: 140, current: 159.4, changePct: 13.86, verdict: "worse", pValue: 0.003 },
      ],
    },
  };
  for (const s of report.scenarios) s.metrics = scenarioMetrics(s);
  return report;
}
