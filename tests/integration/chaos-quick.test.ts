/**
 * `gauntlet chaos --quick` end to end: the real child server (node bin/gauntlet.js serve), the real
 * kill -9 and restart, the in-process sweeps; the report directory, its validity and the exit code.
 * Then the cases only the full catalogue runs, picked with --case: a stuck and a slow engine, a slow
 * reader, injected ENOSPC and an EIO at start-up (servers of their own).
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { runChaosCommand } from "../../src/cli/chaos.js";
import { catalogueSteps } from "../../src/harness/chaos/catalogue.js";
import type { CaseSpec } from "../../src/harness/chaos/case-recorder.js";
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

const specs = (quick: boolean): Map<string, CaseSpec> => new Map(catalogueSteps(quick).flatMap((g) => g.steps.flatMap((st) => st.cases.map((c) => [c.name, c] as const))));
/** The gates a case has: five, less a time that does not apply to it. */
const gatesOf = (spec: CaseSpec) =>
  ["expected", "correct", "no-crash", ...(spec.detectNotApplicable ? [] : ["detect"]), ...(spec.recoverNotApplicable ? [] : ["recover"])];

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

  test("the report is valid, of kind chaos, with one scenario per quick case and its gates", () => {
    const r = report();
    expect(validateReport(r)).toEqual([]);
    expect(r.kind).toBe("chaos");
    expect(r.verdict).toBe("pass");
    const quick = specs(true);
    expect(r.scenarios.map((s) => s.name).sort()).toEqual([...quick.keys()].sort());
    for (const s of r.scenarios) {
      const gates = r.gates.filter((g) => g.scenario === s.name).map((g) => g.id.slice(s.name.length + 1));
      expect(gates, s.name).toEqual(gatesOf(quick.get(s.name)!));
      expect(s.requests.total, s.name).toBeGreaterThan(0);
      expect(s.requests.wrongAnswers, s.name).toBe(0);
    }
  });

  test("each case reports its time to detect and to recover, as notes and as gate values, or says why one does not apply", () => {
    const r = report();
    const quick = specs(true);
    for (const s of r.scenarios) {
      const spec = quick.get(s.name)!;
      const notes = s.notes.join("\n");
      for (const [what, na, metric] of [["detect", spec.detectNotApplicable, "time_to_detect_ms"], ["recover", spec.recoverNotApplicable, "time_to_recover_ms"]] as const) {
        if (na) {
          expect(notes, s.name).toContain(`time to ${what} not applicable: ${na}`);
          expect(r.gates.find((g) => g.id === `${s.name}/${what}`), s.name).toBeUndefined();
        } else {
          expect(notes, s.name).toMatch(new RegExp(`time to ${what} [\\d.]+ ms`));
          expect(typeof r.gates.find((g) => g.id === `${s.name}/${what}`)?.values[metric], s.name).toBe("number");
        }
      }
    }
  });

  test("the crash case really killed the server inside record writes and lost no record that was complete", () => {
    const crash = report().scenarios.find((s) => s.name === "crash-kill9-under-load");
    const notes = crash?.notes.join("\n") ?? "";
    expect(notes).toMatch(/✓ the kill landed while requests were in flight: \d+ answered 200 before the kill, [1-9]\d* cut by it/);
    expect(notes).toMatch(/✓ the kill landed inside record writes .*: \d+ temp file\(s\) on disk while it was down; \d+ of \d+ answers had their record complete/);
    expect(notes).toMatch(/✓ every one of the \d+ answers whose record was complete at the kill is a hit after the restart/);
  });

  test("a FIFO where a record should be, while running and while stopped, is now in the quick subset and handled", () => {
    const r = report();
    for (const name of ["cache-running-fifo", "cache-stopped-fifo"]) {
      const s = r.scenarios.find((x) => x.name === name);
      expect(s, name).toBeDefined();
      expect(r.gates.filter((g) => g.scenario === name).map((g) => g.verdict), name).not.toContain("fail");
      expect(s!.notes.join("\n"), name).toMatch(/✓ the FIFO was left in place, or the entry itself .*replaced by a fresh valid record/);
    }
  });

  test("the directory and the symbolic-link loop were checked afterwards, not only planted", () => {
    const r = report();
    for (const name of ["cache-running-directory", "cache-stopped-directory"]) {
      expect(r.scenarios.find((x) => x.name === name)!.notes.join("\n"), name).toMatch(/✓ the directory was left in place with its content/);
    }
    for (const name of ["cache-running-symlink-loop", "cache-stopped-symlink-loop"]) {
      expect(r.scenarios.find((x) => x.name === name)!.notes.join("\n"), name).toMatch(/✓ the symbolic link was left in place, or the entry itself/);
    }
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

describe("gauntlet chaos --case: the cases only the full catalogue runs", () => {
  const picked = ["engine-stuck", "engine-slow", "client-slow-reader", "disk-enospc-injected", "disk-eio-at-start"];
  let full = "";
  let fullCode = -1;
  const lines: string[] = [];
  const fullReport = () => JSON.parse(readFileSync(join(full, "latest", "report.json"), "utf8")) as RunReport;
  const notesOf = (name: string) => fullReport().scenarios.find((x) => x.name === name)?.notes.join("\n") ?? "";

  beforeAll(async () => {
    full = mkdtempSync(join(tmpdir(), "gauntlet-chaos-it-full-"));
    fullCode = await runChaosCommand([...picked.flatMap((c) => ["--case", c]), "--out", full], { ...process.env, GITHUB_STEP_SUMMARY: "" }, {
      stdout: (l) => lines.push(l),
      stderr: (l) => lines.push(l),
      progress: (t) => void lines.push(t),
      isTTY: false,
    });
  }, 300_000);

  afterAll(() => {
    rmSync(full, { recursive: true, force: true });
  });

  test("exits 0, with exactly the picked cases in the report and every gate green", () => {
    expect(fullCode, lines.join("\n")).toBe(0);
    const r = fullReport();
    expect(r.scenarios.map((x) => x.name).sort()).toEqual([...picked].sort());
    const all = specs(false);
    for (const s of r.scenarios) {
      expect(r.gates.filter((g) => g.scenario === s.name).map((g) => [g.id, g.verdict]), s.name).toEqual(gatesOf(all.get(s.name)!).map((g) => [`${s.name}/${g}`, "pass"]));
      expect(s.requests.wrongAnswers, s.name).toBe(0);
    }
  });

  test("engine-stuck: the client gets its 504 at the timeout, not when the stuck engine returns", () => {
    expect(notesOf("engine-stuck")).toMatch(/✓ the timeout answered within --timeout-ms \+ 2 s/);
  });

  test("engine-slow: the slow stream is complete and right, and another client is served meanwhile", () => {
    expect(notesOf("engine-slow")).toMatch(/✓ another client meanwhile: 200 with the reference answer/);
    expect(notesOf("engine-slow")).toMatch(/✓ the slow streamed answer: 200 with the reference answer/);
  });

  test("client-slow-reader: the reader fell behind the socket buffers (the server's send queue stood still), then got the whole answer", () => {
    expect(notesOf("client-slow-reader")).toMatch(/✓ the reader fell behind: .* KiB waiting in the server's send queue/);
    expect(notesOf("client-slow-reader")).toMatch(/✓ the slow reader, once it reads again: 200 with the reference answer/);
  });

  test("disk-enospc-injected: ENOSPC logged, every answer right, no temp file left", () => {
    expect(notesOf("disk-enospc-injected")).toMatch(/✓ ENOSPC was logged/);
    expect(notesOf("disk-enospc-injected")).toMatch(/✓ no temp file of a failed write left behind/);
  });

  test("disk-eio-at-start: the EIO logged, service meanwhile, and the disk store back later", () => {
    expect(notesOf("disk-eio-at-start")).toMatch(/✓ the EIO was logged/);
    expect(notesOf("disk-eio-at-start")).toMatch(/✓ the disk store was opened again and new records reach the disk/);
  });
});
