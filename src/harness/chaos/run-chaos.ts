/**
 * `gauntlet chaos` as a stage of the harness: every case of the catalogue becomes a scenario of the
 * same red/green report stress runs write, with its five gates (see case-recorder.ts). runChaos()
 * runs it alone (report kind "chaos"); `gauntlet gate` adds chaosStage({ quick: true, ... }) to its
 * own stages, so the same cases appear in the gate's report and exit code.
 */
import type { RunReport } from "../report/types.js";
import { systemClock } from "../load/clock.js";
import type { ProgressSink } from "../runner/progress.js";
import { runGauntlet } from "../runner/run-gauntlet.js";
import type { RunOutcome } from "../runner/run-gauntlet.js";
import type { Stage, StageContext, StageResult } from "../runner/stage.js";
import type { ValidityLimits } from "../scenarios/types.js";
import { caseGates, caseOutcome } from "./case-recorder.js";
import { runGroups } from "./case-runner.js";
import { prepareCatalogue } from "./catalogue.js";
import { REQUEST_TIMEOUT_MS, SERVER_ARGS, SLOW_SYNC_MS, TMPFS_BYTES } from "./settings.js";

export interface ChaosStageOptions {
  /** The subset `gauntlet gate` runs (one server start, one restart, well under a minute). */
  quick: boolean;
  /** Absolute path of bin/gauntlet.js. */
  binPath: string;
  /** The harness's environment; the child gets it without GAUNTLET_DEBUG_* plus its own switches. */
  parentEnv: Readonly<Record<string, string | undefined>>;
  /** Case names (or name prefixes before a "-") to run; all when empty. */
  only?: readonly string[];
  /** Try a tmpfs for a real full disk (default true; root on Linux only). */
  tmpfs?: boolean;
  seed?: number;
}

export function chaosStage(o: ChaosStageOptions): Stage {
  return {
    name: o.quick ? "chaos-quick" : "chaos",
    async run(ctx: StageContext): Promise<StageResult> {
      const catalogue = await prepareCatalogue({ ...o, line: (t) => ctx.progress.line(t) });
      let results;
      try {
        ctx.progress.line(`chaos: ${o.quick ? "quick subset" : "full catalogue"}; full disk: ${catalogue.diskFull}`);
        results = await runGroups(catalogue.groups, { line: (t) => ctx.progress.line(t), ...(ctx.signal ? { signal: ctx.signal } : {}) });
      } finally {
        await catalogue.cleanup();
      }
      const scenarios = results.map(caseOutcome);
      const invalid = ctx.signal?.aborted ? [] : results.length === 0 ? ["no chaos case matched the selection"] : [];
      return {
        scenarios,
        gates: results.flatMap((r) => caseGates(r.spec)),
        runMetrics: {},
        invalid,
        memory: [],
        latency: [],
        markers: [],
        model: catalogue.model(),
        config: {
          quick: o.quick,
          only: o.only ?? [],
          seed: o.seed ?? 1,
          serverArgs: SERVER_ARGS,
          requestTimeoutMs: REQUEST_TIMEOUT_MS,
          fullDisk: catalogue.diskFull,
          tmpfsBytes: TMPFS_BYTES,
          switches: `GAUNTLET_DEBUG_ENGINE_FAULT=tagged, GAUNTLET_DEBUG_CACHE_FS_FAULT=slow-sync:${SLOW_SYNC_MS} on the main server (test only)`,
        },
      };
    },
  };
}

/** Validity limits are a load-run notion; chaos cases have their own gates. These are the defaults. */
export const CHAOS_LIMITS: ValidityLimits = {
  maxEventLoopDelayP99Ms: 200,
  maxSendLatenessP99Ms: 100,
  timingToleranceMs: 50,
  timingTolerancePct: 10,
  littlesLawTolerancePct: 30,
  harnessCapacityPct: 80,
  maxForeignCpuPct: 40,
};

export interface RunChaosOptions extends ChaosStageOptions {
  /** Reports root: writes <outRoot>/<timestamp>-<name>/ and <outRoot>/latest. */
  outRoot: string;
  name?: string;
  toolVersion: string;
  cwd: string;
  progress: ProgressSink;
  signal?: AbortSignal;
  githubSummaryPath?: string | null;
}

/** Runs the catalogue (or its quick subset) and writes the report; exit code 0 green, 1 red, 2 invalid. */
export function runChaos(o: RunChaosOptions): Promise<RunOutcome> {
  const kind: RunReport["kind"] = "chaos";
  return runGauntlet({
    kind,
    name: o.name ?? (o.quick ? "chaos-quick" : "chaos"),
    toolVersion: o.toolVersion,
    stages: [chaosStage(o)],
    limits: CHAOS_LIMITS,
    capacity: null,
    autocannon: null,
    baseline: null,
    outRoot: o.outRoot,
    cwd: o.cwd,
    clock: systemClock,
    progress: o.progress,
    ...(o.signal ? { signal: o.signal } : {}),
    githubSummaryPath: o.githubSummaryPath ?? null,
    config: { command: "chaos", quick: o.quick },
  });
}
