/**
 * `gauntlet chaos --quick` end to end: the real child server (node bin/gauntlet.js serve), the real
 * kill -9 and restart, the in-process sweeps; the report directory, its validity and the exit code.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { runChaosCommand } from "../../src/cli/chaos.js";
import { catalogueSteps } from "../../src/harness/chaos/catalogue.js";
import { validateReport } from "../../src/harness/report/index.js";
import type { RunReport } from "../../src/harness/report/index.js";

let out = "";
let code = -1;
const stdout: string[] = [];
const stderr: string[] = [];
const mountsBefore = existsSync("/proc/mounts") ? readFileSync("/proc/mounts", "utf8") : "";
const runDirs = () => readdirSync(tmpdir()).filter((d) => /^gauntlet-chaos-(main|sweep)-/.test(d));
const dirsBefore = new Set(runDirs());

beforeAll(async () => {
  out = mkdtempSync(join(tmpdir(), "gauntlet-chaos-it-"));
  code = await runChaosCommand(["--quick", "--out", out], { ...process.env, GITHUB_STEP_SUMMARY: "" }, {
    stdout: (l) => stdout.push(l),
    stderr: (l) => stderr.push(l),
    progress: (t) => void stderr.push(t),
    isTTY: false,
  });
}, 300_000);

afterAll(() => {
  rmSync(out, { recursive: true, force: true });
});

const report = () => JSON.parse(readFileSync(join(out, "latest", "report.json"), "utf8")) as RunReport;

describe("gauntlet chaos --quick", () => {
  test("exits 0 with every gate green, and says so", () => {
    expect(code, `${stdout.join("\n")}\n${stderr.join("")}`).toBe(0);
    expect(stdout.join("\n")).toMatch(/gauntlet chaos: ✅ PASS: \d+ gates, \d+ passed, 0 failed, 0 unavailable/);
  });

  test("writes report.json, report.md, junit.xml and report.html, and points latest at them", () => {
    const dirs = readdirSync(out).filter((d) => d !== "latest");
    expect(dirs).toHaveLength(1);
    expect(dirs[0]).toMatch(/-chaos-quick$/);
    for (const f of ["report.json", "report.md", "junit.xml", "report.html"]) expect(existsSync(join(out, "latest", f)), f).toBe(true);
    expect(readFileSync(join(out, "latest", "junit.xml"), "utf8")).toContain("crash-kill9-under-load");
  });

  test("the report is valid, of kind chaos, with one scenario and five gates per quick case", () => {
    const r = report();
    expect(validateReport(r)).toEqual([]);
    expect(r.kind).toBe("chaos");
    expect(r.verdict).toBe("pass");
    const quickCases = catalogueSteps(true).flatMap((g) => g.steps.flatMap((s) => s.cases.map((c) => c.name)));
    expect(r.scenarios.map((s) => s.name).sort()).toEqual([...new Set(quickCases)].sort());
    for (const s of r.scenarios) {
      const gates = r.gates.filter((g) => g.scenario === s.name).map((g) => g.id.slice(s.name.length + 1));
      expect(gates, s.name).toEqual(["expected", "correct", "no-crash", "detect", "recover"]);
      expect(s.requests.total, s.name).toBeGreaterThan(0);
      expect(s.requests.wrongAnswers, s.name).toBe(0);
    }
  });

  test("each case reports its time to detect and to recover, as notes and as gate values", () => {
    const r = report();
    for (const s of r.scenarios) {
      expect(s.notes.join("\n"), s.name).toMatch(/time to detect [\d.]+ ms .*time to recover [\d.]+ ms/);
      const detect = r.gates.find((g) => g.id === `${s.name}/detect`);
      expect(typeof detect?.values.time_to_detect_ms, s.name).toBe("number");
      const recover = r.gates.find((g) => g.id === `${s.name}/recover`);
      expect(typeof recover?.values.time_to_recover_ms, s.name).toBe("number");
    }
  });

  test("the crash case really killed the server mid-write and lost nothing it had answered", () => {
    const crash = report().scenarios.find((s) => s.name === "crash-kill9-under-load");
    const notes = crash?.notes.join("\n") ?? "";
    expect(notes).toMatch(/✓ the kill landed while requests were in flight: \d+ answered 200 before the kill, [1-9]\d* cut by it/);
    expect(notes).toMatch(/✓ every one of the \d+ answers given before the kill is a hit after the restart/);
  });

  test("nothing is left behind: no tmpfs still mounted, no temporary directory of the run", () => {
    if (existsSync("/proc/mounts")) {
      const mounts = readFileSync("/proc/mounts", "utf8").split("\n").filter((l) => l.includes("gauntlet-chaos-"));
      const before = mountsBefore.split("\n").filter((l) => l.includes("gauntlet-chaos-"));
      expect(mounts).toEqual(before);
    }
    expect(runDirs().filter((d) => !dirsBefore.has(d))).toEqual([]);
  });
});
