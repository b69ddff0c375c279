import { describe, expect, test } from "vitest";
import { ScenarioAccumulator } from "../../src/harness/runner/accumulator.js";
import { buildScenarioOutcome } from "../../src/harness/runner/scenario-outcome.js";
import type { OutcomeInput } from "../../src/harness/runner/scenario-outcome.js";
import { groupByServer } from "../../src/harness/runner/stress-stage.js";
import { validateScenario } from "../../src/harness/scenarios/validate-scenario.js";
import { DEFAULT_VALIDITY } from "../../src/harness/scenarios/types.js";
import type { ScenarioDef } from "../../src/harness/scenarios/types.js";

function scenario(extra: object = {}): ScenarioDef {
  const r = validateScenario({ name: "s", description: "d", requests: 4, connections: 1, prompt: "p {i}", distinctPrompts: 4, maxTokens: 4, ...extra }, "s.json");
  if (!r.ok) throw new Error(r.errors.join("\n"));
  return r.scenario;
}

function input(over: Partial<OutcomeInput> = {}): OutcomeInput {
  const acc = new ScenarioAccumulator({ references: null, tolerance: DEFAULT_VALIDITY });
  for (let i = 0; i < 4; i++) {
    acc.add({ index: i, key: "k", sentAt: i * 100, scheduledAt: null, elapsedMs: 100, ttftMs: null, itlMs: [], status: 200, error: null,
      answer: { text: "x", finishReason: "length", completionTokens: 4, promptTokens: 2 }, server: { totalMs: 95, ttftMs: null, queueMs: 1 }, cacheHit: null });
  }
  return {
    scenario: scenario(), driver: "gauntlet-client", acc: acc.result(), references: null, loop: { p99Ms: 3, maxMs: 5 }, lateness: null, reported: null,
    memory: [0, 1, 2, 3].map((k) => ({ tMs: k * 100, rssBytes: 100e6 })), memoryNote: null, capacity: { jsonRps: 1000, streamRps: 800, source: "test" },
    limits: DEFAULT_VALIDITY, series: [], markers: [], interrupted: false, foreignCpuPct: 5, ...over,
  };
}

describe("buildScenarioOutcome", () => {
  test("computes throughput over first send to last answer, and the validity and memory metrics", () => {
    const o = buildScenarioOutcome(input());
    expect(o.report.throughputRps).toBeCloseTo(10, 6); // 4 answers in 400 ms
    expect(o.report.successRate).toBe(1);
    expect(o.metrics).toMatchObject({ memory_growth_pct: 0, timing_mismatches: 0, harness_capacity_rps: 1000, foreign_cpu_pct: 5, event_loop_delay_p99_ms: 3, "queue.p50": 1, "server_total.p50": 95 });
    expect(o.metrics.output_tokens_per_s).toBeCloseTo(40, 6);
    expect(o.invalid).toEqual([]);
    expect(o.report.notes.join("\n")).toMatch(/autocannon is not installed/);
  });

  test("says memory is unavailable, with the reason, instead of inventing it", () => {
    const o = buildScenarioOutcome(input({ memory: [], memoryNote: "the target has no /metrics with process_resident_memory_bytes" }));
    expect(o.metrics.memory_growth_pct).toBeNull();
    expect(o.report.notes).toContain("server memory: unavailable (the target has no /metrics with process_resident_memory_bytes)");
  });

  test("makes an interrupted scenario invalid", () => {
    expect(buildScenarioOutcome(input({ interrupted: true })).invalid).toEqual(["s: the run was interrupted before the scenario finished"]);
  });

  test("reports streaming summaries only for streamed scenarios", () => {
    expect(buildScenarioOutcome(input()).report.ttftMs).toBeUndefined();
    expect(buildScenarioOutcome(input({ scenario: scenario({ stream: true }) })).report.ttftMs).toMatchObject({ count: 0 });
  });
});

describe("groupByServer", () => {
  test("puts scenarios with the same server arguments and environment on one server, in first-use order", () => {
    const a = scenario({ server: { args: ["--slots", "2"] } });
    const b = { ...scenario({ server: { args: ["--slots", "2"], env: { X: "1" } } }), name: "b" };
    const c = { ...scenario({ server: { args: ["--slots", "2"] } }), name: "c" };
    expect(groupByServer([a, b, c]).map((g) => g.map((s) => s.name))).toEqual([["s", "c"], ["b"]]);
  });
});

describe("buildScenarioOutcome: Little's law", () => {
  test("makes a closed-loop run invalid when latencies and throughput contradict the connection count", () => {
    // autocannon's stale-timing trap: it reports 100 ms means at 1000 req/s over 4 connections (truth: 4 ms).
    const acc = new ScenarioAccumulator({ references: null, tolerance: DEFAULT_VALIDITY });
    // 4 connections, 4 ms each: one request completes every millisecond.
    for (let i = 0; i < 40; i++) {
      acc.add({ index: i, key: "k", sentAt: i, scheduledAt: null, elapsedMs: 4, ttftMs: null, itlMs: [], status: 200, error: null,
        answer: { text: "x", finishReason: "length", completionTokens: 1, promptTokens: 1 }, server: null, cacheHit: null });
    }
    const o = buildScenarioOutcome({ ...input(), scenario: scenario({ connections: 4, requests: 40 }), acc: acc.result(), driver: "autocannon", reported: { meanMs: 100, rps: 1000 } });
    expect(o.invalid[0]).toMatch(/^s: Little's law check failed: mean latency 100 ms but connections \/ throughput gives 4\.\d ms/);
    expect(o.metrics.littles_law_error_pct).toBeGreaterThan(2000);
  });

  test("judges a run shorter than a second on the harness's own throughput, not autocannon's per-second average", () => {
    // autocannon's requests.average is a mean over one-second buckets: a 0.1 s run of 40 requests reports 40 req/s.
    const acc = new ScenarioAccumulator({ references: null, tolerance: DEFAULT_VALIDITY });
    for (let i = 0; i < 40; i++) {
      acc.add({ index: i, key: "k", sentAt: (Math.floor(i / 4) * 10), scheduledAt: null, elapsedMs: 10, ttftMs: null, itlMs: [], status: 200, error: null,
        answer: { text: "x", finishReason: "length", completionTokens: 1, promptTokens: 1 }, server: null, cacheHit: null });
    }
    const o = buildScenarioOutcome({ ...input(), scenario: scenario({ connections: 4, requests: 40 }), acc: acc.result(), driver: "autocannon", reported: { meanMs: 10, rps: 40 } });
    expect(o.invalid).toEqual([]);
    expect(Math.abs(o.metrics.littles_law_error_pct as number)).toBeLessThan(5);
  });
});
