/**
 * The other half of the verdict's test: the unmodified server under the shipped `ci` preset of
 * load/soak-profiles.json, unmodified (its default gates: memory growth, failure rate, p95 < 2 x p50
 * per latency window with the K-consecutive allowance, canary unchanged), must be judged green:
 * exit 0, every gate passing on real data (the latency gate judged real windows, not none), and
 * the run's folder holding the journal (one checksummed line per window) and every report file.
 */
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import { validateReport } from "../../src/harness/report/index.js";
import type { RunReport } from "../../src/harness/report/index.js";
import { parseJournal } from "../../src/harness/soak/index.js";
import { runCli } from "../helpers/run-cli.js";


const run = (args: string[], timeoutMs: number) => runCli(args, { timeoutMs });

let result: { code: number | null; stdout: string; stderr: string };
let report: RunReport;
let runDir: string;

beforeAll(async () => {
  const out = mkdtempSync(join(tmpdir(), "gauntlet-soak-green-out-"));
  result = await run(["soak", "--preset", "ci", "--out", out, "--name", "green"], 170_000);
  runDir = join(out, "latest");
  report = JSON.parse(readFileSync(join(runDir, "report.json"), "utf8")) as RunReport;
}, 180_000);

describe("gauntlet soak --preset ci against the unmodified server", () => {
  test("is judged green (exit 0) under the preset's default gates, latency stability included", () => {
    const gate = report.gates.find((g) => g.id === "soak/memory-growth")!;
    const notes = report.scenarios[0]!.notes;
    console.log(`[soak green] ${gate.detail}\n${notes.filter((n) => /^(memory verdict|latency stability|host|harness)/.test(n)).join("\n")}`);
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    expect(report.verdict).toBe("pass");
    expect(report.invalidReasons).toEqual([]);
    expect(report.gates.map((g) => g.id)).toEqual(["soak/memory-growth", "soak/failure-rate", "soak/latency-stability", "soak/canary"]);
    for (const g of report.gates) expect(g.verdict, `${g.id}: ${g.detail}`).toBe("pass");
    expect(gate.values.memory_growth_pct!).toBeLessThan(20);
  });

  test("the latency gate judged real latency windows after warm-up, for every prompt size", () => {
    const verdict = JSON.parse(readFileSync(join(runDir, "soak-verdict.json"), "utf8")) as { latency: { lifetimes: { noisy: number; result: { judgedWindows: number } }[] }; metrics: Record<string, number> };
    expect(verdict.latency.lifetimes).toHaveLength(2);
    for (const l of verdict.latency.lifetimes) expect(l.result.judgedWindows + l.noisy).toBeGreaterThanOrEqual(4);
    for (const l of verdict.latency.lifetimes) expect(l.result.judgedWindows).toBeGreaterThanOrEqual(2);
  });

  test("served the mixed workload: both lanes, streamed TTFT, a canary in every window", () => {
    const [soak, canary] = report.scenarios;
    expect(soak!.requests.total).toBeGreaterThan(150);
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
    const cfg = report.environment.config as { profile: { windowMs: number }; plannedDurationMs: number };
    expect(types.filter((t) => t === "window").length).toBe(Math.ceil(cfg.plannedDurationMs / cfg.profile.windowMs));
    for (const f of ["report.md", "junit.xml", "report.html", "soak-verdict.json"]) expect(existsSync(join(runDir, f)), f).toBe(true);
    expect(validateReport(report)).toEqual([]);
  });
});
