/**
 * Ctrl-C / SIGTERM / crash safety and --resume, end to end through the real command: a soak stopped
 * by SIGTERM keeps every closed window in its journal and exits 2 (incomplete); one killed with
 * SIGKILL partway through a window (a crash: no interrupted entry, possibly a torn last line) loses
 * at most that window: `gauntlet report` rebuilds everything up to the last complete window from the
 * journal. `gauntlet soak --resume` restarts the bundled server as a new lifetime, continues the
 * window numbering to the planned end and judges the clean server green (exit 0).
 */
import { spawn } from "node:child_process";
import { appendFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import { validateReport } from "../../src/harness/report/index.js";
import type { RunReport } from "../../src/harness/report/index.js";
import { descendants } from "../../src/harness/runner/bundled-server.js";
import { parseJournal } from "../../src/harness/soak/index.js";
import { rebuildSoakReport } from "../../src/harness/soak-run/rebuild.js";

const BIN = join(process.cwd(), "bin", "gauntlet.js");

interface Done { code: number | null; stdout: string; stderr: string }

/**
 * Runs the CLI; `onStderr` may return true to signal it (once): SIGTERM, or SIGKILL `killDelayMs`
 * later (the bundled server it started is then orphaned, as after a real crash: it is stopped here,
 * by its pid).
 */
function run(args: string[], timeoutMs: number, onStderr?: (all: string) => boolean, kill?: { signal: "SIGKILL"; delayMs: number }): Promise<Done> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let signalled = false;
    let orphans: number[] = [];
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => {
      stderr += d;
      if (!signalled && onStderr?.(stderr)) {
        signalled = true;
        if (!kill) child.kill("SIGTERM");
        else {
          setTimeout(() => {
            void descendants(child.pid!).then((pids) => {
              orphans = pids;
              child.kill("SIGKILL");
            });
          }, kill.delayMs);
        }
      }
    });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`gauntlet ${args.join(" ")} did not finish in time\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      for (const pid of orphans) {
        try {
          process.kill(pid, "SIGTERM");
        } catch {
          // already gone
        }
      }
      resolve({ code: code ?? (signal === "SIGKILL" ? 137 : null), stdout, stderr });
    });
  });
}

function loadDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "gauntlet-soak-resume-load-"));
  writeFileSync(join(dir, "soak-profiles.json"), JSON.stringify({
    defaults: {
      workload: { maxTokens: 8, promptSizes: [1, 4] },
      gates: { "memory-growth": "memory_growth_pct < 20 || memory_growth_pct_low <= 0", "failure-rate": "failure_rate < 0.05", canary: "canary_changed == 0" },
    },
    presets: { short: { duration: "36s", window: "3s", rate: "6/s", concurrency: 3, server: { args: ["--slots", "2"] } } },
  }));
  return dir;
}

let first: Done;
let second: Done;
let again: Done;
let runDir: string;
let afterKill: ReturnType<typeof parseJournal>;
let report: RunReport;

beforeAll(async () => {
  const out = mkdtempSync(join(tmpdir(), "gauntlet-soak-resume-out-"));
  first = await run(["soak", "--load", loadDir(), "--preset", "short", "--out", out, "--name", "resume"], 90_000, (err) => /window 4\/12/.test(err));
  runDir = /--resume (\S+)/.exec(first.stdout)?.[1] ?? "";
  afterKill = parseJournal(readFileSync(join(runDir, "journal.jsonl")));
  second = await run(["soak", "--resume", runDir], 90_000);
  report = JSON.parse(readFileSync(join(runDir, "report.json"), "utf8")) as RunReport;
  again = await run(["soak", "--resume", runDir], 30_000);
}, 220_000);

describe("gauntlet soak: SIGTERM, --resume and the journal", () => {
  test("SIGTERM stops the run after journaling the current window: exit 2 (incomplete) and how to resume", () => {
    expect(first.code, `${first.stdout}\n${first.stderr}`).toBe(2);
    expect(first.stdout).toMatch(/invalid: incomplete/);
    expect(runDir).not.toBe("");
    const types = afterKill.entries.map((e) => `${e.type}${typeof e.event === "string" ? `/${e.event}` : ""}`);
    expect(types.slice(0, 2)).toEqual(["meta/start", "meta/lifetime"]);
    expect(types.filter((t) => t === "window").length).toBeGreaterThanOrEqual(4);
    expect(types.at(-1)).toBe("meta/interrupted");
    expect(types).not.toContain("end");
  });

  test("--resume restarts the bundled server as lifetime 2, continues the windows to the planned end, marks the restart and judges the clean server green", () => {
    expect(second.code, `${second.stdout}\n${second.stderr}`).toBe(0);
    expect(report.verdict).toBe("pass");
    expect(report.gates.map((g) => g.verdict)).toEqual(["pass", "pass", "pass"]);
    const journal = parseJournal(readFileSync(join(runDir, "journal.jsonl")));
    const windows = journal.entries.filter((e) => e.type === "window") as unknown as { record: { index: number; endMs: number }; lifetime: number }[];
    expect(windows.map((w) => w.record.index)).toEqual([...windows.keys()]);
    expect(new Set(windows.map((w) => w.lifetime))).toEqual(new Set([1, 2]));
    expect(windows.at(-1)!.record.endMs).toBeGreaterThanOrEqual(36_000);
    expect(journal.entries.at(-1)!.type).toBe("end");
    const labels = report.series!.markers!.map((m) => m.label);
    expect(labels).toContain("server restarted (resume): lifetime 2");
    expect(labels.some((l) => l.startsWith("interrupted: SIGTERM"))).toBe(true);
    expect(report.scenarios[1]!.requests.wrongAnswers).toBe(0);
    expect(validateReport(report)).toEqual([]);
  });

  test("a finished run cannot be resumed (exit 2)", () => {
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already finished/);
  });

  test("a torn last line is skipped and counted when the report is rebuilt from the journal", async () => {
    appendFileSync(join(runDir, "journal.jsonl"), '{"seq":999,"type":"window","lifetime":2,"rec');
    const rebuilt = await rebuildSoakReport(runDir);
    expect(rebuilt.journal.tornLines).toBe(1);
    expect(rebuilt.report.scenarios[0]!.notes.join("\n")).toMatch(/1 torn line skipped/);
    expect(rebuilt.report.verdict).toBe(report.verdict);
    expect(rebuilt.report.gates).toEqual(report.gates);
  });
});

describe("gauntlet soak killed with SIGKILL partway through a window, then report and --resume", () => {
  let killed: Done;
  let dir: string;
  let atKill: ReturnType<typeof parseJournal>;
  let reportedBeforeResume: Done;
  let rebuiltBeforeResume: RunReport;
  let resumed: Done;
  let reportedAfterResume: Done;
  let final: RunReport;

  beforeAll(async () => {
    const out = mkdtempSync(join(tmpdir(), "gauntlet-soak-kill-out-"));
    // Window 4 is journaled at 12 s; the kill comes 1.5 s into window 5 (3 s windows).
    killed = await run(["soak", "--load", loadDir(), "--preset", "short", "--out", out, "--name", "kill"], 90_000, (err) => /window 4\/12/.test(err), { signal: "SIGKILL", delayMs: 1500 });
    dir = join(out, readdirSync(out).find((n) => n.endsWith("-kill"))!);
    atKill = parseJournal(readFileSync(join(dir, "journal.jsonl")));
    // As if the kill had also cut an append short: a torn last line.
    appendFileSync(join(dir, "journal.jsonl"), '{"seq":999,"type":"window","lifetime":1,"record":{"ind');
    reportedBeforeResume = await run(["report", dir], 30_000);
    rebuiltBeforeResume = JSON.parse(readFileSync(join(dir, "report.json"), "utf8")) as RunReport;
    resumed = await run(["soak", "--resume", dir], 90_000);
    reportedAfterResume = await run(["report", dir], 30_000);
    final = JSON.parse(readFileSync(join(dir, "report.json"), "utf8")) as RunReport;
  }, 240_000);

  test("the kill leaves every window closed before it in the journal, and no trace of an orderly stop", () => {
    expect(killed.code).toBe(137);
    const types = atKill.entries.map((e) => `${e.type}${typeof e.event === "string" ? `/${e.event}` : ""}`);
    expect(types.slice(0, 2)).toEqual(["meta/start", "meta/lifetime"]);
    expect(types.filter((t) => t === "window").length).toBeGreaterThanOrEqual(4);
    expect(types).not.toContain("meta/interrupted");
    expect(types).not.toContain("end");
  });

  test("gauntlet report rebuilds everything up to the last complete window, counting the torn line: INVALID (incomplete)", () => {
    expect(reportedBeforeResume.code, `${reportedBeforeResume.stdout}\n${reportedBeforeResume.stderr}`).toBe(0);
    expect(reportedBeforeResume.stdout).toMatch(/1 torn line skipped, 0 damaged lines skipped/);
    const windows = atKill.entries.filter((e) => e.type === "window").length;
    expect(rebuiltBeforeResume.scenarios[0]!.notes.join("\n")).toMatch(new RegExp(`windows: ${windows} of 12 planned`));
    expect(rebuiltBeforeResume.verdict).toBe("invalid");
    expect(rebuiltBeforeResume.invalidReasons.join("\n")).toMatch(/incomplete: .* not finished \(still running, or the harness stopped without a trace\)/);
    expect(validateReport(rebuiltBeforeResume)).toEqual([]);
    for (const f of ["report.md", "junit.xml", "report.html", "soak-verdict.json"]) expect(existsSync(join(dir, f)), f).toBe(true);
  });

  test("gauntlet soak --resume continues in a new server lifetime to the planned end and judges the clean server green", () => {
    expect(resumed.code, `${resumed.stdout}\n${resumed.stderr}`).toBe(0);
    const journal = parseJournal(readFileSync(join(dir, "journal.jsonl")));
    const windows = journal.entries.filter((e) => e.type === "window") as unknown as { record: { index: number; endMs: number }; lifetime: number }[];
    expect(windows.map((w) => w.record.index)).toEqual([...windows.keys()]);
    expect(new Set(windows.map((w) => w.lifetime))).toEqual(new Set([1, 2]));
    expect(windows.at(-1)!.record.endMs).toBeGreaterThanOrEqual(36_000);
    expect(journal.entries.at(-1)!.type).toBe("end");
    expect(final.verdict).toBe("pass");
  });

  test("after the resume the torn fragment is still counted as torn, not as a damaged line", () => {
    expect(reportedAfterResume.code).toBe(0);
    expect(reportedAfterResume.stdout).toMatch(/1 torn line skipped, 0 damaged lines skipped/);
    expect(final.scenarios[0]!.notes.join("\n")).not.toMatch(/damaged/);
  });
});
