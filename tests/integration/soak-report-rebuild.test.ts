/**
 * `gauntlet report <run-dir>` on soak run folders, through the real command (a child process): the
 * report is rebuilt from journal.jsonl whatever state report.json is in (missing after a crash,
 * damaged, or never written because the run died before its first window), the torn and damaged
 * lines it skipped are counted on the command's output and in the report, and a journal that cannot
 * be rebuilt is a clear error with exit 2.
 */
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import type { EnvironmentInfo, RunReport } from "../../src/harness/report/index.js";
import { validateReport } from "../../src/harness/report/index.js";
import { parseJournal } from "../../src/harness/soak/index.js";
import { gateDefs, metaLifetime, metaStart } from "../../src/harness/soak-run/meta.js";
import { BUILTIN_PROFILE } from "../../src/harness/soak-run/profile-types.js";
import { runSegment } from "../../src/harness/soak-run/run-loop.js";
import { openSession } from "../../src/harness/soak-run/session.js";
import { createFakeClock, createSimulatedServer } from "../../src/harness/soak-run/simulated.js";
import { runCli } from "../helpers/run-cli.js";

const ENV: EnvironmentInfo = { node: "v20", platform: "linux", arch: "x64", cpuModel: "cpu", cores: 2, totalMemoryBytes: 1, os: "Linux", gitCommit: null, model: null, config: {} };

interface Done { code: number | null; stdout: string; stderr: string }

const report = (dir: string): Promise<Done> => runCli(["report", dir]);

/** A soak that died after `windows` windows (no interrupted entry, no report: as after kill -9). */
async function crashedRun(windows: number): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "soak-rebuild-"));
  const profile = { ...BUILTIN_PROFILE, windowMs: 2000, ratePerSecond: 10, memoryIntervalMs: 200, durationMs: 20_000, gates: { "failure-rate": "failure_rate < 0.05", canary: "canary_changed == 0" } };
  const s = await openSession(dir, metaStart({ name: "crashed", startedAt: new Date(), toolVersion: "0", plannedDurationMs: 20_000, profile, target: { kind: "bundled", args: [], env: {} }, gates: gateDefs(profile, []), environment: ENV }), { writeReport: async () => undefined });
  await s.append(metaLifetime(1, 0, new Date(), "start", { pid: 1, command: null, model: null, memory: "rss+heap+external", memoryNote: "simulated" }));
  if (windows > 0) {
    const sim = createSimulatedServer({ seed: 3 });
    const ac = new AbortController();
    let n = 0;
    await runSegment(
      { profile, model: null, lifetime: 1, startRunMs: 0, endRunMs: 20_000, firstWindowIndex: 0, firstRequestIndex: 0, canaryReference: null },
      { clock: createFakeClock(), send: sim.send, readMemory: sim.readMemory, signal: ac.signal, abortDrainMs: 0, onWindow: async (w) => { await s.append(w); if (++n === windows) ac.abort(); } },
    );
  }
  await s.close();
  return dir;
}

const windowsIn = (dir: string) => parseJournal(readFileSync(join(dir, "journal.jsonl"))).entries.filter((e) => e.type === "window").length;
const readReport = (dir: string) => JSON.parse(readFileSync(join(dir, "report.json"), "utf8")) as RunReport;

describe("gauntlet report <soak run dir>", () => {
  test("rebuilds every file of a run killed mid-append from its journal and says how many torn lines it skipped", async () => {
    const dir = await crashedRun(4);
    const windows = windowsIn(dir);
    appendFileSync(join(dir, "journal.jsonl"), '{"seq":99,"type":"window","lifetime":1,"rec');
    const r = await report(dir);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toMatch(/rebuilt report\.json from journal\.jsonl \(\d+ entries; 1 torn line skipped, 0 damaged lines skipped\)/);
    expect(r.stdout).toMatch(/rendered report\.md, junit\.xml, report\.html .* \(verdict invalid\)/);
    const rep = readReport(dir);
    expect(validateReport(rep)).toEqual([]);
    expect(rep.kind).toBe("soak");
    expect(rep.scenarios[0]!.notes.join("\n")).toMatch(new RegExp(`windows: ${windows} of 10 planned`));
    expect(rep.scenarios[0]!.notes.join("\n")).toMatch(/1 torn line skipped/);
    expect(rep.invalidReasons.join(" ")).toMatch(/incomplete/);
    for (const f of ["report.md", "junit.xml", "report.html", "soak-verdict.json"]) expect(existsSync(join(dir, f)), f).toBe(true);
  });

  test("ignores a damaged report.json: the journal is the source of truth", async () => {
    const dir = await crashedRun(3);
    writeFileSync(join(dir, "report.json"), '{"schemaVersion":1,"kind":"so');
    const r = await report(dir);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(validateReport(readReport(dir))).toEqual([]);
    expect(readReport(dir).scenarios[0]!.notes.join("\n")).toMatch(new RegExp(`windows: ${windowsIn(dir)} of 10 planned`));
  });

  test("rebuilds the report of a run that crashed before its first window: INVALID, incomplete", async () => {
    const dir = await crashedRun(0);
    const r = await report(dir);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    const rep = readReport(dir);
    expect(validateReport(rep)).toEqual([]);
    expect(rep.verdict).toBe("invalid");
    expect(rep.invalidReasons.join(" ")).toMatch(/incomplete: 0\.0 of 0\.3 planned minutes ran/);
    expect(rep.scenarios[0]!.requests.total).toBe(0);
  });

  test("a journal without a readable start entry is a clear error (exit 2), not a crash", async () => {
    const dir = await crashedRun(2);
    const lines = readFileSync(join(dir, "journal.jsonl"), "utf8").split("\n");
    writeFileSync(join(dir, "journal.jsonl"), [lines[0]!.replace('"start"', '"strat"'), ...lines.slice(1)].join("\n"));
    const r = await report(dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/gauntlet report: .*journal\.jsonl has no start entry/);
    expect(r.stderr).not.toMatch(/fatal/);
    expect(existsSync(join(dir, "report.md"))).toBe(false);
  });

  test("an unreadable journal is a clear error (exit 2)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "soak-rebuild-"));
    mkdirSync(join(dir, "journal.jsonl"));
    const r = await report(dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/gauntlet report: .*journal\.jsonl cannot be read \(EISDIR\)/);
  });
});
