/**
 * The leak verdict is itself tested: `gauntlet soak` as a user runs it (CLI child process, bundled
 * server child process) against a server with the TEST-ONLY leak switch
 * (GAUNTLET_DEBUG_LEAK_KB_PER_REQUEST=1024: 1 MiB kept per chat request, at most ~400 requests in
 * this 40 s run) must be judged red: exit 1, the memory gate failing with the slope's interval above 0.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import { validateReport } from "../../src/harness/report/index.js";
import type { RunReport } from "../../src/harness/report/index.js";

const BIN = join(process.cwd(), "bin", "gauntlet.js");

function run(args: string[], timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill("SIGTERM");
      reject(new Error(`gauntlet ${args.join(" ")} did not finish in time\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The latency-stability gate is left out: on a shared 2-core CI box the tail says more about the neighbours than the server. */
function loadDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "gauntlet-soak-red-load-"));
  writeFileSync(join(dir, "soak-profiles.json"), JSON.stringify({
    defaults: {
      workload: { maxTokens: 8, promptSizes: [1, 4, 12] },
      gates: { "memory-growth": "memory_growth_pct < 20 || memory_growth_pct_low <= 0", "failure-rate": "failure_rate < 0.05", canary: "canary_changed == 0" },
    },
    presets: {
      leak: { duration: "40s", window: "4s", rate: "10/s", concurrency: 4, server: { args: ["--slots", "2"], env: { GAUNTLET_DEBUG_LEAK_KB_PER_REQUEST: "1024" } } },
    },
  }));
  return dir;
}

let result: { code: number | null; stdout: string; stderr: string };
let report: RunReport;

beforeAll(async () => {
  const out = mkdtempSync(join(tmpdir(), "gauntlet-soak-red-out-"));
  result = await run(["soak", "--load", loadDir(), "--preset", "leak", "--out", out, "--name", "red"], 150_000);
  report = JSON.parse(readFileSync(join(out, "latest", "report.json"), "utf8")) as RunReport;
}, 160_000);

describe("gauntlet soak against a leaking server (compressed, 40 s)", () => {
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

  test("the other gates pass: the red comes from memory alone", () => {
    for (const g of report.gates.filter((x) => x.id !== "soak/memory-growth")) expect(g.verdict, g.id).toBe("pass");
    expect(report.invalidReasons).toEqual([]);
  });

  test("the report is valid and charts memory with the warm-up end and the fitted line's end", () => {
    expect(validateReport(report)).toEqual([]);
    expect(report.series!.memory.length).toBeGreaterThanOrEqual(30);
    expect(report.series!.memory.every((m) => m.externalBytes !== undefined)).toBe(true);
    const labels = report.series!.markers!.map((m) => m.label);
    expect(labels.some((l) => l.startsWith("warm-up end"))).toBe(true);
    expect(labels.some((l) => l.startsWith("fit:"))).toBe(true);
  });
});
