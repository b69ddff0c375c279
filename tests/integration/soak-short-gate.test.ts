/**
 * The short soak as `gauntlet gate` runs it: shortSoakStage with the `gate` preset of the shipped
 * load/soak-profiles.json, starting its own bundled server (the preset's server arguments), on the
 * real clock. It must fit the gate's budget (well under 90 s of wall time, server start and stop
 * included), judge the unmodified server green under the preset's gates, and hand the gate a
 * valid report section.
 */
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { beforeAll, describe, expect, test } from "vitest";
import { systemClock } from "../../src/harness/load/clock.js";
import type { EnvironmentInfo, RunReport } from "../../src/harness/report/index.js";
import { validateReport } from "../../src/harness/report/index.js";
import { assembleReport } from "../../src/harness/runner/assemble-report.js";
import type { StageResult } from "../../src/harness/runner/stage.js";
import { DEFAULT_VALIDITY } from "../../src/harness/scenarios/types.js";
import { loadGateSoakProfile, shortSoakStage } from "../../src/harness/soak-run/short-soak.js";

const ENV: EnvironmentInfo = { node: "v20", platform: "linux", arch: "x64", cpuModel: "cpu", cores: 2, totalMemoryBytes: 1, os: "Linux", gitCommit: null, model: null, config: {} };

let stage: StageResult;
let report: RunReport;
let wallMs: number;
const lines: string[] = [];

beforeAll(async () => {
  const loaded = await loadGateSoakProfile("load");
  if (!loaded.ok) throw new Error(loaded.error);
  const soak = shortSoakStage({ profile: loaded.profile, binPath: join(process.cwd(), "bin", "gauntlet.js"), parentEnv: process.env });
  const t0 = performance.now();
  stage = await soak.run({
    clock: systemClock, origin: systemClock.now(), limits: DEFAULT_VALIDITY, capacity: null, autocannon: null,
    progress: { line: (l) => lines.push(l), tick: () => undefined, end: () => undefined },
  });
  wallMs = performance.now() - t0;
  report = assembleReport({ kind: "gate", name: "gate", toolVersion: "0", startedAt: new Date(), finishedAt: new Date(), durationMs: wallMs, environment: ENV, stages: [stage], invalid: [], baseline: null });
}, 150_000);

describe("the gate's short soak on the bundled server", () => {
  test("fits the gate's budget: under 90 s of wall time, server start and stop included", () => {
    console.log(`[short soak] ${(wallMs / 1000).toFixed(1)} s wall\n${lines.join("\n")}`);
    expect(wallMs).toBeLessThan(90_000);
  });

  test("judges the unmodified server green under the gate preset's gates", () => {
    const notes = report.scenarios[0]!.notes.filter((n) => /^(memory verdict|latency stability|host|harness)/.test(n));
    expect(report.invalidReasons, notes.join("\n")).toEqual([]);
    for (const g of report.gates) expect(g.verdict, `${g.id}: ${g.detail}\n${notes.join("\n")}`).toBe("pass");
    expect(report.gates.map((g) => g.id)).toEqual(["soak/memory-growth", "soak/failure-rate", "soak/latency-stability", "soak/canary"]);
    expect(report.verdict).toBe("pass");
  });

  test("hands the gate a valid report section: its scenarios, gates, memory series and markers", () => {
    expect(validateReport(report)).toEqual([]);
    expect(report.scenarios.map((s) => s.name)).toEqual(["soak", "soak-canary"]);
    expect(stage.memory.length).toBeGreaterThanOrEqual(30);
    expect(stage.markers[0]!.label).toBe("short soak starts");
    expect(lines.filter((l) => l.startsWith("short soak window")).length).toBe(9);
  });
});
