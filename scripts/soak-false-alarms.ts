/**
 * How often does the soak verdict call a clean server red? Runs the compressed clean soak N times
 * (default 5; preset `ci` of load/soak-profiles.json, each run its own bundled server and folder) and
 * writes reports/soak-false-alarms/<timestamp>/report.{json,md}: every run's verdict and memory
 * figures, the false-alarm rate (runs red on the memory gate) with its 95% Wilson interval, and how
 * many runs were red for other reasons or invalid.
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

/** 95% Wilson score interval of k successes in n trials. */
function wilson(k: number, total: number): [number, number] {
  if (total === 0) return [0, 1];
  const z = 1.96;
  const p = k / total;
  const d = 1 + (z * z) / total;
  const c = p + (z * z) / (2 * total);
  const h = z * Math.sqrt((p * (1 - p)) / total + (z * z) / (4 * total * total));
  return [Math.max(0, (c - h) / d), Math.min(1, (c + h) / d)];
}

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
  const runs = [];
  for (let i = 1; i <= n && !ac.signal.aborted; i++) {
    const o = await runSoak({
      mode: { kind: "new", name: `clean-${i}`, profile, plannedDurationMs: profile.durationMs, target: { kind: "bundled" }, extraGates: [], outRoot: join(dir, "runs") },
      binPath: fileURLToPath(new URL("../bin/gauntlet.js", import.meta.url)), parentEnv: process.env, clock: systemClock, progress: silentSoakProgress,
      signal: ac.signal, toolVersion: version, cwd: process.cwd(),
    });
    const memory = o.report.gates.find((g) => g.id === "soak/memory-growth");
    const run = {
      run: i, verdict: o.report.verdict, runDir: o.runDir,
      memoryGate: memory?.verdict ?? null,
      growthPct: memory?.values.memory_growth_pct ?? null, growthPctLow: memory?.values.memory_growth_pct_low ?? null,
      redGates: o.report.gates.filter((g) => g.verdict !== "pass").map((g) => g.id), invalidReasons: o.report.invalidReasons,
    };
    runs.push(run);
    process.stderr.write(`run ${i}/${n}: ${run.verdict}; memory ${run.memoryGate} (growth ${run.growthPct?.toFixed(2) ?? "n/a"}%, low ${run.growthPctLow?.toFixed(2) ?? "n/a"}%)\n`);
  }
  const falseAlarms = runs.filter((r) => r.memoryGate === "fail").length;
  const [low, high] = wilson(falseAlarms, runs.length);
  const summary = {
    kind: "soak-false-alarms", startedAt: new Date().toISOString(), preset, profile, runsPlanned: n, runs: runs.length,
    falseAlarms, falseAlarmRate: runs.length > 0 ? falseAlarms / runs.length : null, wilson95: [low, high],
    redForOtherReasons: runs.filter((r) => r.verdict === "fail" && r.memoryGate !== "fail").length,
    invalid: runs.filter((r) => r.verdict === "invalid").length, green: runs.filter((r) => r.verdict === "pass").length, details: runs,
  };
  await writeFile(join(dir, "report.json"), `${JSON.stringify(summary, null, 2)}\n`);
  const md = [
    `# Soak false alarms: ${falseAlarms} of ${runs.length} clean runs red on the memory gate`,
    "",
    `False-alarm rate ${(summary.falseAlarmRate ?? 0) * 100}% (95% Wilson interval ${(low * 100).toFixed(1)}%-${(high * 100).toFixed(1)}%); preset \`${preset}\` (${profile.durationMs / 1000} s, ${profile.windowMs / 1000} s windows), unmodified server.`,
    `Green ${summary.green}, red for other reasons ${summary.redForOtherReasons}, invalid ${summary.invalid}.`,
    "",
    "| run | verdict | memory gate | growth % | growth % (low) | red gates |",
    "| --: | --- | --- | --: | --: | --- |",
    ...runs.map((r) => `| ${r.run} | ${r.verdict} | ${r.memoryGate ?? "n/a"} | ${r.growthPct?.toFixed(2) ?? "n/a"} | ${r.growthPctLow?.toFixed(2) ?? "n/a"} | ${r.redGates.join(", ") || "-"} |`),
    "",
  ].join("\n");
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
