import { describe, expect, test } from "vitest";
import { compareReports, renderGate } from "../../bench/engine-regression.js";
import type { LoadRun } from "../../bench/llama-server-load.js";
import type { EngineBenchReport } from "../../bench/llama-server-report.js";

const run = (rps: number): LoadRun => ({
  connections: 1,
  requests: 100,
  errors: 0,
  elapsedMs: 100_000 / rps,
  requestsPerSecond: rps,
  latencyMs: { p50: 1000 / rps, p90: 1000 / rps, p99: 1000 / rps, mean: 1000 / rps },
  littlesLawRatio: 1,
  meanCompletionTokens: 32,
});
const ttft = (p50: number) => ({ n: 50, errors: 0, ttftMs: { p50, p90: p50, p99: p50, mean: p50 } });

/** A report with gauntlet at `g` req/s (two rounds), llama-server at `ls` req/s, TTFT and one in-process path. */
function report(o: { g: [number, number]; ls?: [number, number]; ttft?: [number, number]; path?: [number, number]; build?: string }): EngineBenchReport {
  const results: Record<string, { runs: LoadRun[] }> = { gauntlet: { runs: o.g.map(run) } };
  if (o.ls) results["llama-server -t 1"] = { runs: o.ls.map(run) };
  return {
    schemaVersion: 1,
    benchmark: "engine",
    startedAt: "2026-01-01T00:00:00Z",
    environment: { engineBuild: o.build ?? "prebuilt", cores: 2, arch: "x64", platform: "linux" },
    method: "",
    paths: o.path
      ? [{ preset: "tiny", threads: 1, uvThreadpoolSize: null, rows: [{ path: "native (default)", n: 60, p50: o.path[0], p90: 0, mean: 0, ttftP50: 0, sameTextAsNative: true, halvesP50: o.path }] }]
      : [],
    http: [{ preset: "tiny", slots: 1, serverLog: [], levels: [{ connections: 8, results }], ttft: { gauntlet: (o.ttft ?? [7, 7]).map(ttft), ...(o.ls ? { "llama-server -t 1": [ttft(7), ttft(7)] } : {}) } }],
    llamaServer: o.ls ? { available: true, commit: "c".repeat(40) } : { available: false, reason: "skipped" },
  };
}

describe("engine benchmark regression gate", () => {
  test("the same figures within their noise pass", () => {
    const g = compareReports(report({ g: [200, 204], path: [20, 20.5] }), report({ g: [198, 201], path: [20.3, 20.1] }));
    expect(g.comparable).toBe(true);
    expect(g.comparisons.map((c) => c.verdict)).toEqual(["ok", "ok", "ok"]);
    expect(g.regressions).toEqual([]);
  });

  test("a throughput drop beyond the tolerance is a regression, named in the rendering", () => {
    const g = compareReports(report({ g: [200, 204] }), report({ g: [150, 152] }));
    expect(g.regressions.map((c) => c.figure)).toEqual(["http tiny 1 slot(s) 8 conn req/s"]);
    expect(g.regressions[0]!.worseBy).toBeCloseTo(1 - 151 / 202, 3);
    expect(renderGate(g, "prev")).toMatch(/❌ regression[\s\S]*1 regression\(s\)/);
  });

  test("a slower TTFT and a slower in-process path are regressions (lower is better there)", () => {
    const g = compareReports(report({ g: [200, 200], ttft: [7, 7], path: [20, 20] }), report({ g: [200, 200], ttft: [10, 10], path: [26, 26] }));
    expect(g.regressions.map((c) => c.figure).sort()).toEqual(["http tiny 1 slot(s) streaming TTFT p50", "path tiny 1 thread(s) uv default native (default) p50 ms"]);
  });

  test("the tolerance grows with the rounds' own spread, so a noisy run does not cry wolf", () => {
    // Rounds 150 and 250 (50% apart): a 20% lower mean is within 3 x that spread ... capped, so not gated.
    const noisy = compareReports(report({ g: [150, 250] }), report({ g: [160, 160] }));
    expect(noisy.regressions).toEqual([]);
    expect(noisy.comparisons[0]!.verdict).toBe("too noisy");
    // Rounds 5% apart: tolerance 15%; a 20% drop is a regression, a 12% one is not.
    expect(compareReports(report({ g: [195, 205] }), report({ g: [160, 160] })).regressions).toHaveLength(1);
    expect(compareReports(report({ g: [195, 205] }), report({ g: [176, 176] })).regressions).toHaveLength(0);
  });

  test("with llama-server in both runs, a machine-wide slowdown is not a regression, a gauntlet-only one is", () => {
    const base = report({ g: [200, 200], ls: [250, 250] });
    expect(compareReports(base, report({ g: [140, 140], ls: [175, 175] })).regressions).toEqual([]);
    const own = compareReports(base, report({ g: [140, 140], ls: [250, 250] }));
    expect(own.regressions.map((c) => c.basis)).toEqual(["ratio to llama-server"]);
  });

  test("runs on another engine build are not comparable and gate nothing", () => {
    const g = compareReports(report({ g: [200, 200] }), report({ g: [100, 100], build: "local" }));
    expect(g.comparable).toBe(false);
    expect(g.regressions).toEqual([]);
    expect(g.notes[0]).toMatch(/engineBuild prebuilt.*local.*not comparable/);
  });
});
