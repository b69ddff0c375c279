/**
 * Ctrl-C / SIGTERM / crash safety and --resume, end to end: a soak stopped by SIGTERM keeps every
 * closed window in its journal and exits 2 (incomplete); `gauntlet soak --resume` restarts the
 * bundled server as a new lifetime and continues the window numbering to the planned end; a torn
 * last journal line is skipped and counted when the report is rebuilt from the journal.
 */
import { spawn } from "node:child_process";
import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import { validateReport } from "../../src/harness/report/index.js";
import type { RunReport } from "../../src/harness/report/index.js";
import { parseJournal } from "../../src/harness/soak/index.js";
import { rebuildSoakReport } from "../../src/harness/soak-run/rebuild.js";

const BIN = join(process.cwd(), "bin", "gauntlet.js");

interface Done { code: number | null; stdout: string; stderr: string }

/** Runs the CLI; `onStderr` may return true to send SIGTERM (once). */
function run(args: string[], timeoutMs: number, onStderr?: (all: string) => boolean): Promise<Done> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let signalled = false;
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => {
      stderr += d;
      if (!signalled && onStderr?.(stderr)) {
        signalled = true;
        child.kill("SIGTERM");
      }
    });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`gauntlet ${args.join(" ")} did not finish in time\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function loadDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "gauntlet-soak-resume-load-"));
  writeFileSync(join(dir, "soak-profiles.json"), JSON.stringify({
    defaults: {
      workload: { maxTokens: 8, promptSizes: [1, 4] },
      gates: { "failure-rate": "failure_rate < 0.05", canary: "canary_changed == 0" },
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

  test("--resume restarts the bundled server as lifetime 2, continues the windows to the planned end and marks the restart", () => {
    expect(second.code, `${second.stdout}\n${second.stderr}`).not.toBe(1);
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
    expect(rebuilt.report.scenarios[0]!.notes.join("\n")).toMatch(/1 torn last line skipped/);
    expect(rebuilt.report.verdict).toBe(report.verdict);
    expect(rebuilt.report.gates).toEqual(report.gates);
  });
});
