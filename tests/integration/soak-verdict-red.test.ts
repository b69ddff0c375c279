/**
 * The leak verdict is itself tested: `gauntlet soak` as a user runs it (CLI child process, bundled
 * server child process), with the shipped `ci` preset (its default gates) plus only the server's
 * TEST-ONLY leak switch, must be judged red: exit 1, the memory gate failing with the slope's
 * interval above 0. The leak is 256 KiB per chat request (Node Buffers, so they are in RSS and in
 * external alike): 1.5-4x the growth limit over this run (depending on where warm-up ends), not the
 * ~10x of the 1 MiB leak counted twice (RSS + external) before, and the measured slope must match
 * the leak once, not twice.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import { validateReport } from "../../src/harness/report/index.js";
import type { RunReport } from "../../src/harness/report/index.js";
import { runCli } from "../helpers/run-cli.js";


const run = (args: string[], timeoutMs: number) => runCli(args, { timeoutMs });

const LEAK_KB = 256;

/** The shipped profiles with one more preset: `ci` plus the leak switch. */
function loadDir(): string {
  const shipped = JSON.parse(readFileSync(join(process.cwd(), "load", "soak-profiles.json"), "utf8")) as { presets: Record<string, { server?: { args?: string[]; env?: Record<string, string> } }> };
  const ci = shipped.presets.ci!;
  shipped.presets.leak = { ...ci, server: { ...ci.server, env: { ...ci.server?.env, GAUNTLET_DEBUG_LEAK_KB_PER_REQUEST: String(LEAK_KB) } } };
  const dir = mkdtempSync(join(tmpdir(), "gauntlet-soak-red-load-"));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "soak-profiles.json"), JSON.stringify(shipped));
  return dir;
}

let result: { code: number | null; stdout: string; stderr: string };
let report: RunReport;
let runDir: string;

beforeAll(async () => {
  const out = mkdtempSync(join(tmpdir(), "gauntlet-soak-red-out-"));
  result = await run(["soak", "--load", loadDir(), "--preset", "leak", "--out", out, "--name", "red"], 170_000);
  runDir = join(out, "latest");
  report = JSON.parse(readFileSync(join(runDir, "report.json"), "utf8")) as RunReport;
}, 180_000);

describe("gauntlet soak --preset ci against a server leaking 256 KiB per request", () => {
  test("is judged red (exit 1) on the memory gate, with the whole interval of the projected growth above the limit", () => {
    const gate = report.gates.find((g) => g.id === "soak/memory-growth")!;
    console.log(`[soak red] ${gate.detail}; ${report.scenarios[0]!.notes.find((n) => n.startsWith("memory verdict"))}`);
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(1);
    expect(report.verdict).toBe("fail");
    expect(gate.verdict).toBe("fail");
    expect(gate.values.memory_growth_pct!).toBeGreaterThan(20);
    expect(gate.values.memory_growth_pct_low!).toBeGreaterThan(0);
    expect(result.stdout).toMatch(/❌ soak\/memory-growth/);
  });

  test("the measured slope is the leak counted once (RSS), not twice (RSS + external)", () => {
    const [soak, canary] = report.scenarios;
    const chatRequests = soak!.requests.total + canary!.requests.total;
    const expectedMiBPerHour = ((LEAK_KB / 1024) * chatRequests) / (report.durationMs / 3_600_000);
    const slope = report.gates.find((g) => g.id === "soak/memory-growth")!;
    const verdict = JSON.parse(readFileSync(join(runDir, "soak-verdict.json"), "utf8")) as { metrics: Record<string, number> };
    console.log(`[soak red] slope ${verdict.metrics.memory_slope_mb_per_h!.toFixed(0)} MiB/h, leak ${expectedMiBPerHour.toFixed(0)} MiB/h; ${slope.detail}`);
    expect(verdict.metrics.memory_slope_mb_per_h!).toBeGreaterThan(0.6 * expectedMiBPerHour);
    expect(verdict.metrics.memory_slope_mb_per_h!).toBeLessThan(1.4 * expectedMiBPerHour);
  });

  test("the run is valid and the red does not come from failures or the canary", () => {
    expect(report.invalidReasons).toEqual([]);
    for (const id of ["soak/failure-rate", "soak/canary"]) expect(report.gates.find((g) => g.id === id)?.verdict, id).toBe("pass");
  });

  test("the report is valid and charts the judged memory with the warm-up end and the fitted line", () => {
    expect(validateReport(report)).toEqual([]);
    expect(report.series!.memory.length).toBeGreaterThanOrEqual(30);
    expect(report.series!.memory.every((m) => m.externalBytes !== undefined)).toBe(true);
    expect(report.series!.markers!.map((m) => m.label)).toContain("warm-up end");
    expect(report.series!.memoryFits![0]!.toBytes).toBeGreaterThan(report.series!.memoryFits![0]!.fromBytes);
  });
});
