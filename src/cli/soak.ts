/**
 * `gauntlet soak`: hours of steady mixed load with a leak verdict (src/harness/soak-run). This file
 * reads the environment and handles signals: Ctrl-C / SIGTERM stop after the current window is
 * journaled (a second signal is ignored while the server stops; the journal keeps what ran).
 */
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { systemClock } from "../harness/load/clock.js";
import { parseTarget } from "../harness/runner/target.js";
import { parseSoakGate } from "../harness/soak-run/metric-names.js";
import { loadSoakProfiles, resolveProfile } from "../harness/soak-run/profiles.js";
import { createSoakProgress } from "../harness/soak-run/progress.js";
import { SoakUsageError, runSoak } from "../harness/soak-run/run-soak.js";
import type { NewSoak, SoakOutcome } from "../harness/soak-run/run-soak.js";
import { SOAK_HELP, parseSoakArgs } from "../harness/soak-run/soak-args.js";
import type { SoakArgs } from "../harness/soak-run/soak-args.js";
import type { HarnessIo } from "./run-harness.js";

const repoFile = (rel: string) => fileURLToPath(new URL(`../../${rel}`, import.meta.url));
const ICON = { pass: "✅", fail: "❌", unavailable: "⚠️" } as const;

async function toolVersion(): Promise<string> {
  try {
    return (JSON.parse(await readFile(repoFile("package.json"), "utf8")) as { version?: string }).version ?? "0.0.0";
  } catch {
    return "0.0.0";
  }
}

type Planned = { ok: true; mode: NewSoak } | { ok: false; error: string };

async function planNewRun(a: SoakArgs): Promise<Planned> {
  const loaded = await loadSoakProfiles(a.load);
  if (!loaded.ok) return { ok: false, error: `the soak profiles have problems:\n  ${loaded.errors.join("\n  ")}` };
  const resolved = resolveProfile(loaded.profiles, a.preset, {
    ...(a.durationMs !== null ? { durationMs: a.durationMs } : {}),
    ...(a.windowMs !== null ? { windowMs: a.windowMs } : {}),
    ...(a.ratePerSecond !== undefined ? { ratePerSecond: a.ratePerSecond } : {}),
    ...(a.concurrency !== null ? { concurrency: a.concurrency } : {}),
  });
  if (!resolved.ok) return { ok: false, error: `--preset: ${resolved.error}` };
  const profile = resolved.profile;
  if (profile.durationMs === null) return { ok: false, error: `preset ${profile.name} has no duration: give --duration` };
  if (profile.windowMs > profile.durationMs) return { ok: false, error: `the window (${profile.windowMs / 1000} s) is longer than the run` };
  for (const expr of a.gates) {
    const g = parseSoakGate(expr);
    if (!g.ok) return { ok: false, error: `--gate ${JSON.stringify(expr)}: ${g.problem}` };
  }
  let target: NewSoak["target"] = { kind: "bundled" };
  if (a.target !== null) {
    const t = parseTarget(a.target);
    if (!t.ok) return { ok: false, error: t.error };
    target = { kind: "target", baseUrl: t.baseUrl };
  }
  return { ok: true, mode: { kind: "new", name: a.name ?? "soak", profile, plannedDurationMs: profile.durationMs, target, extraGates: a.gates, outRoot: a.out } };
}

function printOutcome(io: HarnessIo, o: SoakOutcome): void {
  const r = o.report;
  for (const g of r.gates) io.stdout(`${ICON[g.verdict]} ${g.id}: ${g.expression}  →  ${g.detail}`);
  for (const reason of r.invalidReasons) io.stdout(`⚠️ invalid: ${reason.replace("<run-dir>", o.runDir)}`);
  const word = r.verdict === "pass" ? "✅ PASS" : r.verdict === "fail" ? "❌ FAIL" : "⚠️ INVALID (neither green nor red)";
  io.stdout(`gauntlet soak: ${word}`);
  io.stdout(`reports: ${o.runDir}/ (journal.jsonl, report.json, report.md, junit.xml, report.html, soak-verdict.json)`);
}

export async function runSoakCommand(argv: readonly string[], env: Readonly<Record<string, string | undefined>>, io: HarnessIo): Promise<number> {
  const parsed = parseSoakArgs(argv);
  const usage = (msg: string) => {
    io.stderr(`gauntlet soak: ${msg}\nRun 'gauntlet soak --help' for the options.`);
    return 2;
  };
  if (!parsed.ok) return usage(parsed.error);
  if (parsed.args.help) {
    io.stdout(SOAK_HELP);
    return 0;
  }
  const a = parsed.args;
  let mode: NewSoak | { kind: "resume"; runDir: string };
  if (a.resume !== null) mode = { kind: "resume", runDir: a.resume };
  else {
    const plan = await planNewRun(a);
    if (!plan.ok) return usage(plan.error);
    mode = plan.mode;
  }
  const progress = createSoakProgress(io.progress, io.isTTY);
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) return;
    progress.line(`gauntlet soak: ${signal} received: closing the current window, stopping the server, writing the report`);
    controller.abort(signal);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    const outcome = await runSoak({
      mode, binPath: repoFile("bin/gauntlet.js"), parentEnv: env, clock: systemClock, progress, signal: controller.signal,
      toolVersion: await toolVersion(), cwd: process.cwd(), githubSummaryPath: env.GITHUB_STEP_SUMMARY || null,
    });
    printOutcome(io, outcome);
    if (outcome.interrupted) io.stdout(`gauntlet soak: interrupted; continue with: gauntlet soak --resume ${outcome.runDir}`);
    return outcome.exitCode;
  } catch (err) {
    if (err instanceof SoakUsageError) return usage(err.message);
    io.stderr(`gauntlet soak: ${(err as Error).message.split("\n")[0]}`);
    return 2;
  } finally {
    process.removeListener("SIGINT", onSignal);
    process.removeListener("SIGTERM", onSignal);
  }
}
