import { mkdtempSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { parseGate } from "../../src/harness/gates/index.js";
import { validateReport } from "../../src/harness/report/index.js";
import type { RunReport } from "../../src/harness/report/index.js";
import { silentProgress } from "../../src/harness/runner/progress.js";
import { runGauntlet, runStamp } from "../../src/harness/runner/run-gauntlet.js";
import type { RunOptions } from "../../src/harness/runner/run-gauntlet.js";
import type { Stage } from "../../src/harness/runner/stage.js";
import { DEFAULT_VALIDITY } from "../../src/harness/scenarios/types.js";
import { LatencyHistogram } from "../../src/harness/stats/histogram.js";

function options(stages: Stage[], over: Partial<RunOptions> = {}): RunOptions {
  return {
    kind: "stress", name: "unit", toolVersion: "0.0.1", stages, limits: DEFAULT_VALIDITY, capacity: null, autocannon: null, baseline: null,
    outRoot: mkdtempSync(join(tmpdir(), "gauntlet-run-")), cwd: process.cwd(), clock: { now: () => performance.now(), sleep: async () => undefined },
    progress: silentProgress, githubSummaryPath: null, config: {}, ...over,
  };
}

const okStage: Stage = {
  name: "ok",
  async run() {
    const h = new LatencyHistogram();
    h.record(5);
    return {
      scenarios: [{ report: { name: "one", description: "", requests: { total: 1, ok: 1, failed: 0, wrongAnswers: 0 }, successRate: 1, throughputRps: 1, latencyMs: h.summary(), errorsByKind: {}, notes: [] }, metrics: {}, invalid: [], series: [], markers: [], memory: [] }],
      gates: [{ id: "one/fast", scenario: "one", gate: parseGate("p50 < 100") }], runMetrics: {}, invalid: [], memory: [], latency: [], markers: [], model: null, config: { x: 1 },
    };
  },
};

describe("runGauntlet", () => {
  test("writes the four report files under <out>/<timestamp>-<name> and exits 0 when green", async () => {
    const o = options([okStage]);
    const outcome = await runGauntlet(o);
    expect(outcome.exitCode).toBe(0);
    expect(outcome.written.dir).toMatch(/\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ-unit$/);
    expect(readdirSync(outcome.written.dir).sort()).toEqual(["junit.xml", "report.html", "report.json", "report.md"]);
    const report = JSON.parse(readFileSync(join(o.outRoot, "latest", "report.json"), "utf8")) as RunReport;
    expect(validateReport(report)).toEqual([]);
    expect(report.environment.config).toMatchObject({ stages: { ok: { x: 1 } }, autocannon: "not installed" });
  });

  test("a stage that crashes makes the run invalid (exit 2) and the report is still written", async () => {
    const crash: Stage = { name: "boom", run: async () => { throw new Error("no sockets left\nstack"); } };
    const outcome = await runGauntlet(options([okStage, crash]));
    expect(outcome.exitCode).toBe(2);
    expect(outcome.report.invalidReasons).toEqual(["stage boom failed: no sockets left"]);
    expect(validateReport(outcome.report)).toEqual([]);
  });

  test("a GITHUB_STEP_SUMMARY that cannot be written is a warning, not a crash: the verdict's exit code stands", async () => {
    const lines: string[] = [];
    const progress = { ...silentProgress, line: (l: string) => lines.push(l) };
    const outcome = await runGauntlet(options([okStage], { githubSummaryPath: join(tmpdir(), "no-such-dir-gauntlet", "x", "summary.md"), progress }));
    expect(outcome.exitCode).toBe(0);
    expect(lines.some((l) => /could not append the report to GITHUB_STEP_SUMMARY/.test(l))).toBe(true);
  });

  test("an aborted run is invalid", async () => {
    const ac = new AbortController();
    ac.abort();
    const outcome = await runGauntlet(options([okStage], { signal: ac.signal }));
    expect(outcome.exitCode).toBe(2);
    expect(outcome.report.invalidReasons[0]).toMatch(/interrupted/);
  });

  test("appends the markdown to the GitHub step summary file when given", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gauntlet-summary-"));
    await runGauntlet(options([okStage], { githubSummaryPath: join(dir, "summary.md") }));
    expect(readFileSync(join(dir, "summary.md"), "utf8")).toMatch(/^# ✅ PASS · stress · unit/);
  });

  test("stamps run directories sortably and without colons", () => {
    expect(runStamp(new Date("2025-01-15T10:00:00.123Z"))).toBe("2025-01-15T10-00-00Z");
  });
});
