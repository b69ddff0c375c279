import { describe, expect, test } from "vitest";
import type { EnvironmentInfo } from "../../src/harness/report/index.js";
import { validateReport } from "../../src/harness/report/index.js";
import { assembleReport } from "../../src/harness/runner/assemble-report.js";
import { silentProgress } from "../../src/harness/runner/progress.js";
import { DEFAULT_VALIDITY } from "../../src/harness/scenarios/types.js";
import { loadGateSoakProfile, runShortSoak, shortSoakStage, shortSoakStageFromLoadDir } from "../../src/harness/soak-run/short-soak.js";
import { createSimulatedServer, createSteppingClock } from "../../src/harness/soak-run/simulated.js";
import type { SimulatedServerOptions } from "../../src/harness/soak-run/simulated.js";

const ENV: EnvironmentInfo = { node: "v20", platform: "linux", arch: "x64", cpuModel: "cpu", cores: 2, totalMemoryBytes: 1, os: "Linux", gitCommit: null, model: null, config: {} };

async function gateRun(sim: SimulatedServerOptions) {
  const loaded = await loadGateSoakProfile("load");
  if (!loaded.ok) throw new Error(loaded.error);
  const clock = createSteppingClock(50_000);
  const server = createSimulatedServer(sim);
  const lines: string[] = [];
  const stage = await runShortSoak({
    profile: loaded.profile, binPath: "unused", parentEnv: {}, clock, origin: 20_000, progress: { line: (l) => lines.push(l) },
    transport: { send: server.send, readMemory: server.readMemory },
  });
  const report = assembleReport({ kind: "gate", name: "gate", toolVersion: "0", startedAt: new Date(0), finishedAt: new Date(1000), durationMs: 1000, environment: ENV, stages: [stage], invalid: [], baseline: null });
  return { stage, report, lines, profile: loaded.profile };
}

describe("soak-run short soak (the gate's stage)", () => {
  test("the gate preset is a 30-40 s compressed soak on the ci preset's server and workload", async () => {
    const p = await loadGateSoakProfile("load");
    const ci = await loadGateSoakProfile("load", "ci");
    if (!p.ok || !ci.ok) throw new Error("profiles");
    expect(p.profile.durationMs).toBeGreaterThanOrEqual(30_000);
    expect(p.profile.durationMs).toBeLessThanOrEqual(40_000);
    expect(p.profile.server).toEqual(ci.profile.server);
    expect(p.profile.workload).toEqual(ci.profile.workload);
    expect(p.profile.gates).toEqual(ci.profile.gates);
  });

  test("on a clean server its scenarios and soak gates land green in the gate's report, on the gate's time line", async () => {
    const { stage, report, lines } = await gateRun({ seed: 11, noiseBytes: 200_000 });
    expect(report.scenarios.map((s) => s.name)).toEqual(["soak", "soak-canary"]);
    expect(report.gates.map((g) => g.id)).toEqual(expect.arrayContaining(["soak/memory-growth", "soak/failure-rate", "soak/canary"]));
    expect(report.gates.every((g) => g.verdict === "pass"), JSON.stringify(report.gates)).toBe(true);
    expect(report.gates.map((g) => g.id)).toContain("soak/latency-stability");
    expect(report.verdict).toBe("pass");
    expect(validateReport(report)).toEqual([]);
    expect(stage.markers[0]).toEqual({ tMs: 30_000, label: "short soak starts" });
    expect(stage.memory[0]!.tMs).toBeGreaterThanOrEqual(30_000);
    expect(lines.filter((l) => l.startsWith("short soak window")).length).toBe(9);
  });

  test("a leaking server turns the gate red through the soak's memory gate", async () => {
    const { report } = await gateRun({ seed: 12, noiseBytes: 200_000, leakBytesPerRequest: 1024 * 1024 });
    expect(report.gates.find((g) => g.id === "soak/memory-growth")?.verdict).toBe("fail");
    expect(report.verdict).toBe("fail");
  });

  test("shortSoakStageFromLoadDir reads the gate preset when it runs; a broken profile file fails the stage with a clear message", async () => {
    const server = createSimulatedServer({ seed: 13, noiseBytes: 200_000 });
    const ctx = { clock: createSteppingClock(0), origin: 0, progress: { line: () => undefined, tick: () => undefined, end: () => undefined }, limits: DEFAULT_VALIDITY, capacity: null, autocannon: null };
    const transport = { send: server.send, readMemory: server.readMemory };
    const ok = shortSoakStageFromLoadDir({ loadDir: "load", binPath: "unused", parentEnv: {}, transport });
    expect(ok.name).toBe("soak");
    const result = await ok.run(ctx);
    expect(result.scenarios.map((s) => s.report.name)).toEqual(["soak", "soak-canary"]);
    const missing = shortSoakStageFromLoadDir({ loadDir: "/nonexistent-load-dir", binPath: "unused", parentEnv: {}, transport });
    await expect(missing.run(ctx)).rejects.toThrow(/short soak: .*soak-profiles\.json: cannot be read \(ENOENT\)/);
  });

  test("shortSoakStage adapts it to the gate's Stage interface", () => {
    const stage = shortSoakStage({ profile: {} as never, binPath: "bin/gauntlet.js", parentEnv: {} });
    expect(stage.name).toBe("soak");
    expect(typeof stage.run).toBe("function");
  });
});
