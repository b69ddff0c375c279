/**
 * A run is a list of stages, each contributing scenarios, gates, validity findings and series to
 * one report. `gauntlet stress` runs one stress stage; `gauntlet gate` runs the quick stress stage
 * and is where a short chaos stage and a short soak stage plug in later (see src/cli/gate.ts).
 */
import type { AutocannonFn } from "../load/autocannon-driver.js";
import type { Clock } from "../load/clock.js";
import type { LatencySample, Marker, MemorySample, ModelInfo } from "../report/types.js";
import type { ValidityLimits } from "../scenarios/types.js";
import type { GateSpec } from "./gates.js";
import type { HarnessCapacity } from "./harness-capacity.js";
import type { ProgressSink } from "./progress.js";
import type { Metrics } from "./scenario-metrics.js";
import type { ScenarioOutcome } from "./scenario-outcome.js";

export interface StageContext {
  clock: Clock;
  /** Run-clock time the run started. */
  origin: number;
  progress: ProgressSink;
  limits: ValidityLimits;
  capacity: HarnessCapacity | null;
  autocannon: AutocannonFn | null;
  signal?: AbortSignal;
}

export interface StageResult {
  scenarios: ScenarioOutcome[];
  /** Gates on this stage's scenarios, and run-wide ones (scenario null). */
  gates: GateSpec[];
  /** Metrics for this stage's run-wide gates. */
  runMetrics: Metrics;
  invalid: string[];
  memory: MemorySample[];
  latency: LatencySample[];
  markers: Marker[];
  model: ModelInfo | null;
  /** What this stage ran with, for the report's environment.config. */
  config: Record<string, unknown>;
}

export interface Stage {
  name: string;
  run(ctx: StageContext): Promise<StageResult>;
}
