/**
 * How often does the soak verdict call a clean server red? Runs the compressed clean soak N times
 * (default 5; preset `ci` of load/soak-profiles.json with the test-only server switches dropped, each
 * run its own bundled server and folder) and writes reports/soak-false-alarms/<timestamp>/report.{json,md}:
 * every run's verdict and memory figures, the false-alarm rate (red runs, whichever gate) and the
 * memory gate's own, each with its 95% Wilson interval, and how many runs were INVALID
 * (src/harness/soak-run/false-alarms.ts). Ctrl-C interrupts the current run, which is left out, and
 * writes the summary of the runs done.
 *
 *   npm run soak:false-alarms -- 10            # N = 10
 *   npm run soak:false-alarms -- 10 --preset ci --load load
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { systemClock } from "../src/harness/load/clock.js";
import { runStamp } from "../src/harness/runner/run-gauntlet.js";
import { loadSoakProfiles, resolveProfile } from "../src/harness/soak-run/profiles.js";
import { falseAlarmMarkdown, summarizeFalseAlarms } from "../src/harness/soak-run/false-alarms.js";
import type { CleanRun } from "../src/harness/soak-run/false-alarms.js";
import { silentSoakProgress } from "../src/harness/soak-run/progress.js";
import { runSoak } from "../src/harness/soak-run/run-soak.js";

const argv = process.argv.slice(2);
const flag = (name: string, fallback: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : fallback;
};
const n = Number(argv.find((a) => /^\d+$/.test(a)) ?? 5);
const preset = flag("preset", "ci");
const loadDir = flag("load", "load");

async function main(): Promise<number> {
  if (!(Number.isInteger(n) && n >= 1 && n <= 1000)) throw new Error(`N must be an integer from 1 to 1000, got ${n}`);
  const loaded = await loadSoakProfiles(loadDir);
  if (!loaded.ok) throw new Error(loaded.errors.join("\n"));
  const resolved = resolveProfile(loaded.profiles, preset);
  if (!resolved.ok) throw new Error(resolved.error);
  const profile = { ...resolved.profile, server: { ...resolved.profile.server, env: {} } };
  if (profile.durationMs === null) throw new Error(`preset ${preset} has no duration`);
  const dir = join("reports", "soak-false-alarms", runStamp(new Date()));
  await mkdir(dir, { recursive: true });
  const version = (JSON.parse(await readFile(fileURLToPath(new URL("../package.json", import.meta.url)), "utf8")) as { version: string }).version;
  const ac = new AbortController();
  process.once("SIGINT", () => ac.abort("SIGINT"));
  const runs: CleanRun[] = [];
  for (let i = 1; i <= n && !ac.signal.aborted; i++) {
    const o = await runSoak({
      mode: { kind: "new", name: `clean-${i}`, profile, plannedDurationMs: profile.durationMs, target: { kind: "bundled" }, extraGates: [], outRoot: join(dir, "runs") },
      binPath: fileURLToPath(new URL("../bin/gauntlet.js", import.meta.url)), parentEnv: process.env, clock: systemClock, progress: silentSoakProgress,
      signal: ac.signal, toolVersion: version, cwd: process.cwd(),
    });
    if (o.interrupted) break;
    const memory = o.report.gates.find((g) => g.id === "soak/memory-growth");
    const run: CleanRun = {
      run: i, verdict: o.report.verdict, runDir: o.runDir,
      memoryGate: memory?.verdict ?? null,
      growthPct: memory?.values.memory_growth_pct ?? null, growthPctLow: memory?.values.memory_growth_pct_low ?? null,
      redGates: o.report.gates.filter((g) => g.verdict === "fail").map((g) => g.id), invalidReasons: o.report.invalidReasons,
    };
    runs.push(run);
    process.stderr.write(`run ${i}/${n}: ${run.verdict}; memory ${run.memoryGate} (growth ${run.growthPct?.toFixed(2) ?? "n/a"}%, low ${run.growthPctLow?.toFixed(2) ?? "n/a"}%)${run.redGates.length > 0 ? `; red: ${run.redGates.join(", ")}` : ""}${run.invalidReasons.length > 0 ? `; invalid: ${run.invalidReasons.join("; ")}` : ""}\n`);
  }
  const summary = summarizeFalseAlarms(runs);
  await writeFile(join(dir, "report.json"), `${JSON.stringify({ kind: "soak-false-alarms", startedAt: new Date().toISOString(), preset, profile, runsPlanned: n, ...summary }, null, 2)}\n`);
  const md = falseAlarmMarkdown(summary, { preset, durationMs: profile.durationMs, windowMs: profile.windowMs });
  await writeFile(join(dir, "report.md"), md);
  process.stdout.write(`${md}\nreports: ${dir}/report.{json,md}\n`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`soak-false-alarms: ${(err as Error).message}\n`);
    process.exit(2);
  },
);
