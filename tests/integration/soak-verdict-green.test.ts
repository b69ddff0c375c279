/**
 * The other half of the verdict's test: the unmodified server under the same compressed soak
 * (48 s, 4 s windows, 10 requests/s) must be judged green: exit 0, every gate passing, and the run's
 * folder holding the journal (one checksummed line per window) and every report file.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import { validateReport } from "../../src/harness/report/index.js";
import type { RunReport } from "../../src/harness/report/index.js";
import { parseJournal } from "../../src/harness/soak/index.js";

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
  const dir = mkdtempSync(join(tmpdir(), "gauntlet-soak-green-load-"));
  writeFileSync(join(dir, "soak-profiles.json"), JSON.stringify({
    defaults: {
      workload: { maxTokens: 8, promptSizes: [1, 4, 12] },
      gates: { "memory-growth": "memory_growth_pct < 20 || memory_growth_pct_low <= 0", "failure-rate": "failure_rate < 0.05", canary: "canary_changed == 0" },
    },
    presets: { clean: { duration: "48s", window: "4s", rate: "10/s", concurrency: 4, server: { args: ["--slots", "2"] } } },
  }));
  return dir;
}

let result: { code: number | null; stdout: string; stderr: string };
let report: RunReport;
let runDir: string;

beforeAll(async () => {
  const out = mkdtempSync(join(tmpdir(), "gauntlet-soak-green-out-"));
  result = await run(["soak", "--load", loadDir(), "--preset", "clean", "--out", out, "--name", "green"], 170_000);
  runDir = join(out, "latest");
  report = JSON.parse(readFileSync(join(runDir, "report.json"), "utf8")) as RunReport;
}, 180_000);

describe("gauntlet soak against the unmodified server (compressed, 48 s)", () => {
  test("is judged green (exit 0): the projected memory growth stays under 20%", () => {
    const gate = report.gates.find((g) => g.id === "soak/memory-growth")!;
    console.log(`[soak green] ${gate.detail}; ${report.scenarios[0]!.notes.find((n) => n.startsWith("memory verdict"))}`);
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    expect(report.verdict).toBe("pass");
    expect(gate.values.memory_growth_pct!).toBeLessThan(20);
    for (const g of report.gates) expect(g.verdict, g.id).toBe("pass");
  });

  test("served the mixed workload: both lanes, streamed TTFT, a canary in every window", () => {
    const [soak, canary] = report.scenarios;
    expect(soak!.requests.total).toBeGreaterThan(100);
    expect(soak!.ttftMs!.count).toBeGreaterThan(10);
    expect(soak!.notes.join("\n")).toMatch(/cache-hit lane: \d+ answers \(\d+ marked x-cache-hit/);
    expect(canary!.name).toBe("soak-canary");
    expect(canary!.requests.total).toBeGreaterThanOrEqual(11);
    expect(canary!.requests.wrongAnswers).toBe(0);
  });

  test("the run folder holds the journal (every window checksummed) and the same report files as stress runs", () => {
    const journal = parseJournal(readFileSync(join(runDir, "journal.jsonl")));
    expect(journal.tornLines + journal.badChecksumLines).toBe(0);
    const types = journal.entries.map((e) => e.type);
    expect(types[0]).toBe("meta");
    expect(types.at(-1)).toBe("end");
    expect(types.filter((t) => t === "window").length).toBe(12);
    for (const f of ["report.md", "junit.xml", "report.html", "soak-verdict.json"]) expect(existsSync(join(runDir, f)), f).toBe(true);
    expect(validateReport(report)).toEqual([]);
  });
});
