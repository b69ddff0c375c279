/**
 * Puts a run's stage results together into one RunReport: scenario entries, every gate evaluated
 * with its measured values (baseline comparisons included), the series, and the verdict:
 * invalid when the measurement cannot be trusted, else fail when any gate is red or unavailable,
 * else pass.
 */
import type { EnvironmentInfo, GateResult, RunReport, RunVerdict } from "../report/types.js";
import { compareWithBaseline } from "./baseline.js";
import type { BaselineOptions } from "./baseline.js";
import { evaluateSpecs } from "./gates.js";
import { scenarioMetrics } from "./scenario-metrics.js";
import type { Metrics } from "./scenario-metrics.js";
import type { StageResult } from "./stage.js";

export interface AssembleInput {
  kind: RunReport["kind"];
  name: string;
  toolVersion: string;
  startedAt: Date;
  finishedAt: Date;
  durationMs: number;
  environment: EnvironmentInfo;
  stages: StageResult[];
  /** Invalid reasons from outside the stages (e.g. interrupted). */
  invalid: string[];
  baseline: (BaselineOptions & { report: RunReport }) | null;
}

export function verdictOf(invalid: readonly string[], gates: readonly GateResult[]): RunVerdict {
  if (invalid.length > 0) return "invalid";
  if (gates.length === 0) return "fail";
  return gates.every((g) => g.verdict === "pass") ? "pass" : "fail";
}

export function assembleReport(i: AssembleInput): RunReport {
  const outcomes = i.stages.flatMap((s) => s.scenarios);
  const scenarios = outcomes.map((o) => o.report);
  const specs = i.stages.flatMap((s) => s.gates);
  const runMetrics: Metrics = Object.assign({}, ...i.stages.map((s) => s.runMetrics));
  const base = i.baseline ? compareWithBaseline(scenarios, i.baseline.report, i.baseline, i.environment) : null;
  if (base) specs.push(...base.gates);
  for (const note of base?.notes ?? []) {
    const target = scenarios.find((s) => note.includes(JSON.stringify(s.name))) ?? scenarios[0];
    target?.notes.push(note);
  }
  const metricsFor = (scenario: string | null): Metrics => {
    if (scenario === null) return runMetrics;
    const o = outcomes.find((x) => x.report.name === scenario);
    if (!o || o.report.requests.total === 0) return {};
    return { ...scenarioMetrics(o.report, o.metrics), ...(base?.metrics.get(scenario) ?? {}) };
  };
  const gates = evaluateSpecs(specs, metricsFor);
  for (const s of scenarios) s.metrics = metricsFor(s.name);
  const invalid = [...i.invalid, ...i.stages.flatMap((s) => s.invalid)];
  const report: RunReport = {
    schemaVersion: 1,
    tool: { name: "gauntlet", version: i.toolVersion },
    kind: i.kind,
    name: i.name,
    startedAt: i.startedAt.toISOString(),
    finishedAt: i.finishedAt.toISOString(),
    durationMs: i.durationMs,
    verdict: verdictOf(invalid, gates),
    invalidReasons: invalid,
    environment: i.environment,
    scenarios,
    gates,
    series: {
      memory: i.stages.flatMap((s) => s.memory).sort((a, b) => a.tMs - b.tMs),
      latency: i.stages.flatMap((s) => s.latency).sort((a, b) => a.tMs - b.tMs),
      markers: i.stages.flatMap((s) => s.markers).sort((a, b) => a.tMs - b.tMs),
    },
  };
  if (base) report.baseline = base.info;
  return report;
}
