/**
 * What `gauntlet stress` and `gauntlet gate` share: read and check everything first (load files,
 * scenario names, --gate expressions, --target, --baseline) so that misuse is exit 2 before any
 * server starts; then run the stages, write the reports and print one line per gate.
 */
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import type { Gate } from "../harness/gates/index.js";
import { loadAutocannon } from "../harness/load/autocannon-driver.js";
import { systemClock } from "../harness/load/clock.js";
import { validateReport } from "../harness/report/index.js";
import type { RunReport } from "../harness/report/index.js";
import { probeCapacity, readBenchCapacity } from "../harness/runner/harness-capacity.js";
import { createProgress } from "../harness/runner/progress.js";
import { runGauntlet } from "../harness/runner/run-gauntlet.js";
import type { Stage } from "../harness/runner/stage.js";
import { stressStage } from "../harness/runner/stress-stage.js";
import type { ServerChoice } from "../harness/runner/stress-stage.js";
import { parseTarget } from "../harness/runner/target.js";
import { loadDefinitions, parseJsonFile, parseKnownGate } from "../harness/scenarios/index.js";
import type { LoadDefinitions, ScenarioDef } from "../harness/scenarios/index.js";
import type { HarnessArgs } from "./harness-args.js";
import { printOutcome } from "./print-outcome.js";

export interface HarnessIo {
  stdout: (line: string) => void;
  stderr: (line: string) => void;
  /** Raw writes for the progress line (stderr). */
  progress: (text: string) => void;
  isTTY: boolean;
}

export interface HarnessCommand {
  command: "stress" | "gate";
  args: HarnessArgs;
  env: Readonly<Record<string, string | undefined>>;
  io: HarnessIo;
  select: (defs: LoadDefinitions) => { ok: true; scenarios: ScenarioDef[] } | { ok: false; error: string };
  /** Stages to run after the stress stage (the gate's extension point). */
  extraStages?: Stage[];
}

const repoFile = (rel: string) => fileURLToPath(new URL(`../../${rel}`, import.meta.url));

async function toolVersion(): Promise<string> {
  try {
    return (JSON.parse(await readFile(repoFile("package.json"), "utf8")) as { version?: string }).version ?? "0.0.0";
  } catch {
    return "0.0.0";
  }
}

async function readBaseline(path: string): Promise<{ ok: true; report: RunReport } | { ok: false; error: string }> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    return { ok: false, error: `--baseline ${path}: cannot be read (${(err as NodeJS.ErrnoException).code ?? "error"})` };
  }
  const parsed = parseJsonFile(text, `--baseline ${path}`);
  if (!parsed.ok) return { ok: false, error: parsed.error };
  const problems = validateReport(parsed.value);
  if (problems.length > 0) return { ok: false, error: `--baseline ${path} is not a valid gauntlet report.json:\n  ${problems.slice(0, 10).join("\n  ")}` };
  return { ok: true, report: parsed.value as RunReport };
}

function usage(io: HarnessIo, command: string, message: string): number {
  io.stderr(`gauntlet ${command}: ${message}\nRun 'gauntlet ${command} --help' for the options.`);
  return 2;
}

export async function runHarnessCommand(c: HarnessCommand): Promise<number> {
  const { args, io, command } = c;
  const loaded = await loadDefinitions(args.load, args.load);
  if (!loaded.ok) return usage(io, command, `the load definitions have problems:\n  ${loaded.errors.join("\n  ")}`);
  const selected = c.select(loaded.defs);
  if (!selected.ok) return usage(io, command, selected.error);
  const extraGates: Gate[] = [];
  for (const expr of args.gates) {
    const g = parseKnownGate(expr);
    if (!g.ok) return usage(io, command, `--gate ${JSON.stringify(expr)}: ${g.problem}`);
    extraGates.push(g.gate);
  }
  let server: ServerChoice = { kind: "bundled", binPath: repoFile("bin/gauntlet.js"), parentEnv: c.env };
  let scenarios = selected.scenarios;
  if (args.target !== null) {
    const t = parseTarget(args.target);
    if (!t.ok) return usage(io, command, t.error);
    // The key comes from the environment only: a flag would show in `ps` and in shell history.
    const key = c.env.GAUNTLET_TARGET_API_KEY;
    server = { kind: "target", baseUrl: t.baseUrl, headers: key ? { authorization: `Bearer ${key}` } : {} };
    const needBundled = scenarios.filter((s) => Object.keys(s.server.env).length > 0);
    if (needBundled.length > 0 && args.scenarios.length > 0) {
      return usage(io, command, `${needBundled.map((s) => s.name).join(", ")} need(s) the bundled server's environment (e.g. its fault switch) and cannot run against --target`);
    }
    for (const s of needBundled) io.stderr(`gauntlet ${command}: skipping ${s.name}: it needs the bundled server's environment`);
    scenarios = scenarios.filter((s) => !needBundled.includes(s));
  }
  let baseline = null;
  if (args.baselines.length > 0) {
    const reports = [];
    for (const path of args.baselines) {
      const b = await readBaseline(path);
      if (!b.ok) return usage(io, command, b.error);
      reports.push(b.report);
    }
    baseline = {
      report: reports[0]!, others: reports.slice(1), source: args.baselines.join(", "),
      policy: loaded.defs.thresholds.baseline, fixedTolerancePct: args.baselineTolerancePct,
    };
  }
  const limits = {
    ...loaded.defs.thresholds.validity,
    ...(args.maxLoopDelayMs !== null ? { maxEventLoopDelayP99Ms: args.maxLoopDelayMs } : {}),
    ...(args.maxLatenessMs !== null ? { maxSendLatenessP99Ms: args.maxLatenessMs } : {}),
  };

  // A dependency, not an option: plain closed-loop load goes through autocannon, and a run must never
  // quietly measure with another client than the report says.
  const autocannon = await loadAutocannon();
  if (autocannon === null) return usage(io, command, "autocannon is not installed (it drives the plain closed-loop load): run npm install");
  const progress = createProgress(io.progress, io.isTTY);
  const capacity = (await readBenchCapacity(args.out)) ?? (await probeCapacity(systemClock, 300, autocannon));
  progress.line(`harness capacity: ${Math.round(capacity.jsonRps)} req/s plain, ${Math.round(capacity.streamRps)} req/s streamed (${capacity.source})`);
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    progress.line(`gauntlet ${command}: ${signal} received: finishing the requests in flight, stopping the server, writing the report`);
    controller.abort();
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    const outcome = await runGauntlet({
      kind: command, name: args.name ?? command, toolVersion: await toolVersion(),
      stages: [stressStage({ scenarios, thresholds: loaded.defs.thresholds, extraGates, server }), ...(c.extraStages ?? [])],
      limits, capacity, autocannon, baseline, outRoot: args.out, cwd: process.cwd(), clock: systemClock,
      progress, signal: controller.signal, githubSummaryPath: c.env.GITHUB_STEP_SUMMARY || null,
      config: { command, target: server.kind === "target" ? server.baseUrl : null, validity: limits, thresholds: loaded.defs.thresholds, baseline: args.baselines },
    });
    progress.end();
    printOutcome(io, command, outcome);
    return outcome.exitCode;
  } finally {
    process.removeListener("SIGINT", onSignal);
    process.removeListener("SIGTERM", onSignal);
  }
}
