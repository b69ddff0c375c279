/**
 * Runs the stages of a `stress` or `gate` run and writes its reports: reports/<timestamp>-<name>/
 * (report.json, report.md, junit.xml, report.html, `latest`), plus the GitHub step summary when a
 * path is given. Exit code: 0 all green, 1 any red, 2 invalid.
 */
import os from "node:os";
import { join } from "node:path";
import { appendGithubSummary, toMarkdown, writeReportDir } from "../report/index.js";
import type { RunReport, WrittenReport } from "../report/index.js";
import type { AutocannonFn } from "../load/autocannon-driver.js";
import type { Clock } from "../load/clock.js";
import type { ValidityLimits } from "../scenarios/types.js";
import { assembleReport } from "./assemble-report.js";
import type { BaselineOptions } from "./baseline.js";
import { collectEnvironment } from "./environment.js";
import type { HarnessCapacity } from "./harness-capacity.js";
import type { ProgressSink } from "./progress.js";
import type { Stage, StageResult } from "./stage.js";

export interface RunOptions {
  kind: RunReport["kind"];
  name: string;
  toolVersion: string;
  stages: Stage[];
  limits: ValidityLimits;
  capacity: HarnessCapacity | null;
  autocannon: AutocannonFn | null;
  baseline: (BaselineOptions & { report: RunReport }) | null;
  /** The reports root, e.g. "reports". */
  outRoot: string;
  cwd: string;
  clock: Clock;
  progress: ProgressSink;
  signal?: AbortSignal;
  /** GITHUB_STEP_SUMMARY, when set. */
  githubSummaryPath: string | null;
  /** Effective configuration to record (secrets removed). */
  config: Record<string, unknown>;
}

export interface RunOutcome {
  report: RunReport;
  written: WrittenReport;
  exitCode: 0 | 1 | 2;
}

function emptyStage(): StageResult {
  return { scenarios: [], gates: [], runMetrics: {}, invalid: [], memory: [], latency: [], markers: [], model: null, config: {} };
}

export const EXIT_CODES = { pass: 0, fail: 1, invalid: 2 } as const;

/** `2025-01-15T10-00-00Z`: sortable and safe in file names. */
export function runStamp(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, "Z").replace(/:/g, "-");
}

export async function runGauntlet(o: RunOptions): Promise<RunOutcome> {
  const startedAt = new Date();
  const origin = o.clock.now();
  // Other work on the machine skews latencies; record how busy it was when the run began.
  const loadAverageAtStart = os.loadavg().map((v) => Math.round(v * 100) / 100);
  const results: StageResult[] = [];
  const invalid: string[] = [];
  for (const stage of o.stages) {
    if (o.signal?.aborted) break;
    try {
      results.push(await stage.run({ clock: o.clock, origin, progress: o.progress, limits: o.limits, capacity: o.capacity, autocannon: o.autocannon, signal: o.signal }));
    } catch (err) {
      // A harness failure is not a verdict on the server: the run is invalid, and its report is still written.
      invalid.push(`stage ${stage.name} failed: ${(err as Error).message.split("\n")[0]}`);
      results.push(emptyStage());
    }
  }
  if (o.signal?.aborted) invalid.push("the run was interrupted (signal) before it finished");
  const durationMs = o.clock.now() - origin;
  const environment = await collectEnvironment({
    cwd: o.cwd,
    model: results.find((r) => r.model !== null)?.model ?? null,
    config: { ...o.config, stages: Object.fromEntries(o.stages.map((s, k) => [s.name, results[k]?.config ?? null])), harnessCapacity: o.capacity, loadAverageAtStart, autocannon: o.autocannon ? "installed" : "not installed" },
  });
  const report = assembleReport({
    kind: o.kind, name: o.name, toolVersion: o.toolVersion, startedAt, finishedAt: new Date(), durationMs, environment,
    stages: results, invalid, baseline: o.baseline,
  });
  const written = await writeReportDir(join(o.outRoot, `${runStamp(startedAt)}-${o.name}`), report);
  if (o.githubSummaryPath) {
    // The job summary is a courtesy copy: failing to append it must not turn a verdict into a crash.
    try {
      await appendGithubSummary(toMarkdown(report), o.githubSummaryPath);
    } catch (err) {
      o.progress.line(`warning: could not append the report to GITHUB_STEP_SUMMARY (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  }
  return { report, written, exitCode: EXIT_CODES[report.verdict] };
}
